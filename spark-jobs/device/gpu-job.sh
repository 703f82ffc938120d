#!/usr/bin/env bash
# Runs on the GPU machine after stage.sh's first three calls filled /tmp/spark/jars and /tmp/jre.
#   gpu-job.sh            the calibration job of dict-llama-15M (W4 g128, the job's default recipe
#                         on 16 samples, two shards in sequence) on a local Spark cluster whose one
#                         worker discovers the GPU with find-gpus.sh and gives it to its one
#                         executor, so each task opens the CUDA backend on the GPU address Spark
#                         assigned; then the same job on a CPU executor with all 16 cores, for the
#                         time and the perplexity beside it.
#   gpu-job.sh two-gpus   on a machine with two GPUs: the job with the parallel schedule
#                         (SAMPLES samples, default 128; two shards) on two GPU executors, one
#                         GPU each, against the same job on one GPU executor.
# Summaries and driver logs go to $OUT.
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

job() {  # name, master, backend, executor threads, schedule, samples, extra -D settings...
  local name=$1 master=$2 backend=$3 threads=$4 schedule=$5 samples=$6
  shift 6
  rm -rf "/tmp/job-$name"
  local start=$SECONDS
  timeout 280 java "${jvm[@]}" -cp "$app:$SPARK_HOME/jars/*" \
    -Dspark.master="$master" -Dspark.jars="$app" -Dspark.executor.memory=12g \
    "-Dspark.executor.extraJavaOptions=$vector -Dcalibra.cpu.threads=$threads" \
    "$@" dev.calibra.jobs.spark.CalibrateJobMain --model "$model" --calib-samples "$samples" \
    --schedule "$schedule" --slots 2 --backend "$backend" --output "/tmp/job-$name/model.arrow" \
    --work-dir "/tmp/job-$name/work" --summary "$out/$name.summary.json" > "$out/$name.log" 2>&1
  echo "$name: exit $?, $((SECONDS - start)) s"
  grep -E "calibrated in|^perplexity|Exception" "$out/$name.log" | head -8
  echo "devices the shards ran on: $(grep -o 'cuda:[0-9]*' "$out/$name.summary.json" 2>/dev/null \
    | sort | uniq -c | tr -s ' \n' ' ')"
}

# GPU executors: the worker discovers the machine's GPUs, each executor (one core) asks for one
# and each task for one, so Spark hands every executor a GPU of its own.
gpus=(-Dspark.worker.resource.gpu.discoveryScript="$stage/find-gpus.sh"
  -Dspark.executor.cores=1 -Dspark.executor.resource.gpu.amount=1
  -Dspark.task.resource.gpu.amount=1 -Dspark.executorEnv.CUDA_DEVICE_ORDER=PCI_BUS_ID)
if [ "${1:-}" = two-gpus ]; then
  # One worker with two cores and two GPUs runs two executors; with one core, one executor. Two
  # rounds, alternating: the first job in a fresh machine also pays the driver's compilation of
  # the kernels' PTX (cached for the jobs after it).
  for round in 1 2; do
    job "gpu-one-executor-$round" "local-cluster[1,1,32768]" cuda 1 parallel "${SAMPLES:-128}" \
      -Dspark.worker.resource.gpu.amount=2 "${gpus[@]}"
    job "gpu-two-executors-$round" "local-cluster[1,2,32768]" cuda 1 parallel "${SAMPLES:-128}" \
      -Dspark.worker.resource.gpu.amount=2 "${gpus[@]}"
  done
else
  job gpu "local-cluster[1,1,16384]" cuda 1 sequential 16 \
    -Dspark.worker.resource.gpu.amount=1 "${gpus[@]}"
  job cpu "local-cluster[1,1,16384]" cpu 16 sequential 16
fi
