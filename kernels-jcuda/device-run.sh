#!/usr/bin/env bash
# The GPU run of issue 4: builds everything here (the GPU machine has no Java, Maven or network),
# stages it into CHECKOUT/.gpu-run with a Java runtime in CHECKOUT/.device, and prints the device
# tool call that runs the parity tests and the benchmarks there.
#   kernels-jcuda/device-run.sh [CHECKOUT]
# CHECKOUT is the checkout the device tool sends (default: this one); its .git/info/exclude gets
# /.gpu-run/ and /.device/ so that they travel only as carried folders (64 MiB in all).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
checkout=$(cd "${1:-$root}" && pwd)
stage=$checkout/.gpu-run
cd "$root"

rm -rf "$stage"
mkdir -p "$stage/lib" "$stage/bench" "$stage/shared/models"
echo "building (mvn package; tests compiled, not run)..." >&2
mvn -B -q -pl bench -am package -DskipTests dependency:copy-dependencies -DincludeScope=runtime \
  -DoutputDirectory="$stage/deps"
junit_version=$(sed -n 's:.*<junit.version>\(.*\)</junit.version>.*:\1:p' pom.xml)
platform_version=1.${junit_version#5.}  # JUnit Jupiter 5.x.y ships with Platform 1.x.y

# Only what the tests and the benchmark load: Hadoop and Spark stay behind (too large to carry).
# CbqParityTest runs CBQ, so calibration, partitioning and tokenizers travel too.
cp model/target/model-*.jar kernels-jcuda/target/kernels-jcuda-*.jar bench/target/bench-*.jar \
  calibration/target/calibration-*.jar partitioning/target/partitioning-*.jar \
  tokenizers/target/tokenizers-*.jar "$stage"/deps/jcuda-*.jar "$stage"/deps/jackson-*.jar \
  "$stage/lib/"
rm -rf "$stage/deps"
cp -r kernels-jcuda/target/test-classes "$stage/test-classes"
# JCuda's natives jar also carries NVRTC and the PTX compiler bindings (24 MB); only the driver
# and runtime bindings are used.
natives=$(ls "$stage"/lib/jcuda-natives-*.jar)
zip -q -d "$natives" 'lib/libJNvPTXCompiler*' 'lib/libJNvrtc*'
mvn -B -q dependency:copy -Dartifact="org.junit.platform:junit-platform-console-standalone:$platform_version" \
  -DoutputDirectory="$stage"
mv "$stage"/junit-platform-console-standalone-*.jar "$stage/junit-platform-console-standalone.jar"
cp bench/cuda/workload.json bench/cuda/torch_reference.py bench/cuda/vq_torch_reference.py "$stage/bench/"
cp kernels-jcuda/device/on-gpu-machine.sh kernels-jcuda/device/quality.sh "$stage/"
# The quality entries read the models through storage (Hadoop's FileSystem API): those jars
# are too large to travel with the rest, so they go in a call of their own (see the end).
hadoop=$checkout/.gpu-hadoop
rm -rf "$hadoop"
mkdir -p "$hadoop"
cp storage/target/storage-*.jar "$hadoop/"
mvn -B -q -pl storage dependency:copy-dependencies -DincludeScope=runtime \
  -DincludeArtifactIds=hadoop-client-api,hadoop-client-runtime,commons-logging,commons-codec,commons-pool,slf4j-api \
  -DoutputDirectory="$hadoop"
# The models the parity tests read: stories260K's sequences (the perplexity test and CBQ), and
# dict-llama-15M's tokenizer and texts (CBQ).
for model in stories260K dict-llama-15M; do
  mkdir -p "$stage/shared/models/$model"
  cp "$root/../shared/models/$model/config.json" "$root/../shared/models/$model/model.safetensors" \
    "$stage/shared/models/$model/"
done
cp "$root/../shared/models/stories260K/sequences.json" "$stage/shared/models/stories260K/"
cp "$root/../shared/models/dict-llama-15M/"{tokenizer.model,calibration.txt,heldout.txt} \
  "$stage/shared/models/dict-llama-15M/"

exclude=$(cd "$checkout" && realpath -m "$(git rev-parse --git-path info/exclude)")
mkdir -p "$(dirname "$exclude")"
for folder in /.gpu-run/ /.device/ /.gpu-hadoop/; do
  grep -qx "$folder" "$exclude" 2>/dev/null || echo "$folder" >> "$exclude"
done
# The Java runtime for the GPU machine (shared/tools/device-java.sh, which prints how to unpack it).
unpack=$(cd "$checkout" && "$root/../shared/tools/device-java.sh" 2>/dev/null | tail -1)

size=$(du -sm "$stage" "$checkout/.device" | awk '{s += $1} END {print s}')
echo "staged $stage and $checkout/.device: $size MiB (the device tool carries at most 64 MiB with the checkout)" >&2
cat <<CALL
Device tool call (kind nvidia-h100-x1; the command itself runs about five minutes, most of it
CBQ on the CPU; STEPS="parity cbq cbq-ops" before bash leaves out the PyTorch reference and the
cuda benchmark):
  carry: [".device", ".gpu-run"]
  command: $unpack bash .gpu-run/on-gpu-machine.sh
Then copy \$OUT/cuda.json to bench/results/cuda.json, \$OUT/parity.txt to
bench/results/cuda-parity.txt, \$OUT/cbq.txt to bench/results/cbq-cuda.txt and
\$OUT/cbq-ops.json to bench/results/cbq-ops.json.

The cbq-quality table (or vq-quality with CBQ's default recipe) on the GPU, about five minutes:
two calls, the second right after the first (the machine keeps /tmp only while it is warm):
  1. carry [".gpu-hadoop"]; command: rm -rf /tmp/gpu-hadoop && cp -r .gpu-hadoop /tmp/gpu-hadoop
  2. carry [".device", ".gpu-run"]; command: $unpack bash .gpu-run/quality.sh cbq   (or vq)
Then unpack \$OUT/quality.tar.gz: one results file per run, to merge into bench/results/.
CALL
