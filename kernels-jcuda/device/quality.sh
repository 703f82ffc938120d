#!/usr/bin/env bash
# Runs a quality bench entry on the GPU machine with the CUDA backend (fp32 products, so the CPU
# backend's numbers to about 1e-4), its runs in JVMs of their own sharing the GPU:
#   quality.sh cbq [--recipe JSON]   cbq-quality: stories260K in one JVM, each dict-llama-15M
#                                    scheme in another (the recipe fields set for every row)
#   quality.sh vq    vq-quality --full (CBQ's default recipe): one JVM per model and VQ rule
#   quality.sh vq MODEL:RULES…   the same for the vq-quality arguments given, one JVM each
# Needs the storage and Hadoop jars in /tmp/gpu-hadoop (device-run.sh's first call puts them
# there: the device tool carries 64 MiB a call). Results and logs come back packed in
# $OUT/quality.tar.gz, one folder per JVM.
set -uo pipefail
stage=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cd "$stage"
classpath=$(printf '%s:' lib/*.jar /tmp/gpu-hadoop/*.jar)
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader
run() {  # folder, main class, arguments...
  local name=$1 main=$2
  shift 2
  mkdir -p "$OUT/$name" "/tmp/calibra-jvm/$name"
  # A temporary folder per JVM: JCuda writes its native library there under a fixed name, and
  # JVMs starting together rewrote the file while another had it mapped (SIGBUS in ld.so).
  timeout 560 java -Xmx12g --add-modules jdk.incubator.vector -Dcalibra.shared="$stage/shared" \
    -Djava.io.tmpdir="/tmp/calibra-jvm/$name" \
    -Dcalibra.bench.results="$OUT/$name" -cp "$classpath" "$main" --backend cuda "$@" \
    > "$OUT/$name/out.txt" 2> "$OUT/$name/err.txt"
  echo "$name: exit $?"
}
case ${1:-cbq} in
  cbq)
    main=dev.calibra.bench.quality.CbqQualityBenchmark
    shift
    run stories $main "$@" stories260K &
    for scheme in w8g128 w4g128 w3g128 w2g128 w4a8g128 w4pc w2g64; do
      run "dict-$scheme" $main "$@" "dict-llama-15M:$scheme" &
    done ;;
  vq)
    main=dev.calibra.bench.quality.VqQualityBenchmark
    shift
    if (($# == 0)); then
      set -- 'stories260K:*:d4k6-unscaled' 'stories260K:mlp.*:d2k4' 'dict-llama-15M:*:d4k8' \
        'dict-llama-15M:mlp.*:d4k8'
    fi
    for spec in "$@"; do
      run "vq-$(echo "$spec" | tr -c 'A-Za-z0-9.-' _)" $main --full "$spec" &
    done ;;
  *) echo "usage: quality.sh cbq [--recipe JSON] | vq [MODEL:RULES…]" >&2; exit 2 ;;
esac
wait
grep -h "RTN .*CBQ\|bits/weight\|^  *[a-z].*[0-9]$" "$OUT"/*/out.txt "$OUT"/*/err.txt | head -60
# Only a few files come back from the machine: pack them.
cd "$OUT" && tar czf quality.tar.gz ./*/ && rm -rf ./*/
