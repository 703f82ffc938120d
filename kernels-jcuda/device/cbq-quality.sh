#!/usr/bin/env bash
# Runs bench entry cbq-quality on the GPU machine with the CUDA backend (fp32 products, so the
# CPU backend's numbers to about 1e-4): stories260K in one JVM, each dict-llama-15M scheme in a
# JVM of its own, all sharing the GPU, each writing its results after every row. Needs the
# storage and Hadoop jars in /tmp/gpu-hadoop (device-run.sh's first call puts them there: the
# device tool carries 64 MiB a call). Results and logs come back packed in $OUT/quality.tar.gz.
set -uo pipefail
stage=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cd "$stage"
classpath=$(printf '%s:' lib/*.jar /tmp/gpu-hadoop/*.jar)
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader
run() {  # name, cbq-quality arguments...
  local name=$1
  shift
  mkdir -p "$OUT/$name"
  timeout 560 java -Xmx12g --add-modules jdk.incubator.vector -Dcalibra.shared="$stage/shared" \
    -Dcalibra.bench.results="$OUT/$name" -cp "$classpath" \
    dev.calibra.bench.quality.CbqQualityBenchmark --backend cuda "$@" \
    > "$OUT/$name/out.txt" 2> "$OUT/$name/err.txt"
  echo "$name: exit $?"
}
run stories stories260K &
for scheme in w8g128 w4g128 w3g128 w2g128 w4a8g128 w4pc w2g64; do
  run "dict-$scheme" "dict-llama-15M:$scheme" &
done
wait
grep -h "RTN .*CBQ" "$OUT"/*/err.txt
# Only a few files come back from the machine: pack them.
cd "$OUT" && tar czf quality.tar.gz ./*/ && rm -rf ./*/
