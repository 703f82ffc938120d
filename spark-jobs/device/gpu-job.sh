#!/usr/bin/env bash
# Runs on the GPU machine after stage.sh's first three calls filled /tmp/spark/jars and /tmp/jre:
# the calibration job of dict-llama-15M (W4 g128, the job's default recipe on 16 samples, two
# shards in sequence) on a local Spark cluster whose one worker discovers the GPU with
# find-gpus.sh and gives it to its one executor, so each task opens the CUDA backend on the GPU
# address Spark assigned; then the same job on a CPU executor with all 16 cores, for the time and
# the perplexity beside it. Summaries and driver logs go to $OUT.
set -uo pipefail
stage=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
export JAVA_HOME=/tmp/jre PATH=/tmp/jre/bin:$PATH
export SPARK_HOME=/tmp/spark SPARK_SCALA_VERSION=2.13 CUDA_DEVICE_ORDER=PCI_BUS_ID
out=${OUT:-$stage/out}
mkdir -p "$out"
model=$stage/models/dict-llama-15M
app=$stage/spark-jobs-0.1.0-SNAPSHOT-app.jar
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader
echo "discovery: $(bash "$stage/find-gpus.sh")"

# The JVM flags Spark's launcher gives a driver on Java 17, and the Vector API for the CPU kernels.
jvm=(-Xmx16g -XX:+IgnoreUnrecognizedVMOptions)
vector=""
if java --list-modules | grep -q '^jdk.incubator.vector'; then
  vector="--add-modules jdk.incubator.vector"
  jvm+=($vector)
fi
for package in java.lang java.lang.invoke java.lang.reflect java.io java.net java.nio java.util \
    java.util.concurrent java.util.concurrent.atomic jdk.internal.ref sun.nio.ch sun.nio.cs \
    sun.security.action sun.util.calendar; do
  jvm+=(--add-opens="java.base/$package=ALL-UNNAMED")
done

job() {  # name, master, backend, executor threads, extra -D settings...
  local name=$1 master=$2 backend=$3 threads=$4
  shift 4
  rm -rf "/tmp/job-$name"
  local start=$SECONDS
  timeout 280 java "${jvm[@]}" -cp "$app:$SPARK_HOME/jars/*" \
    -Dspark.master="$master" -Dspark.jars="$app" -Dspark.executor.memory=16g \
    "-Dspark.executor.extraJavaOptions=$vector -Dcalibra.cpu.threads=$threads" \
    "$@" dev.calibra.jobs.spark.CalibrateJobMain --model "$model" --calib-samples 16 \
    --schedule sequential --slots 2 --backend "$backend" --output "/tmp/job-$name/model.arrow" \
    --work-dir "/tmp/job-$name/work" --summary "$out/$name.summary.json" > "$out/$name.log" 2>&1
  echo "$name: exit $?, $((SECONDS - start)) s"
  grep -E "calibrated in|^perplexity|Exception" "$out/$name.log" | head -8
}

job gpu "local-cluster[1,1,16384]" cuda 1 \
  -Dspark.worker.resource.gpu.amount=1 \
  -Dspark.worker.resource.gpu.discoveryScript="$stage/find-gpus.sh" \
  -Dspark.executor.resource.gpu.amount=1 -Dspark.task.resource.gpu.amount=1 \
  -Dspark.executorEnv.CUDA_DEVICE_ORDER=PCI_BUS_ID
job cpu "local-cluster[1,1,16384]" cpu 16
