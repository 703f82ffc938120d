#!/usr/bin/env bash
# Spark GPU discovery script: prints this machine's GPUs in Spark's resource format,
#   {"name": "gpu", "addresses": ["0", "1"]}
# The addresses are nvidia-smi's GPU indices. They equal CUDA device ordinals when the executors
# run with CUDA_DEVICE_ORDER=PCI_BUS_ID (spark.executorEnv.CUDA_DEVICE_ORDER), which is what the
# job's tasks hand to the GPU backend. A machine without nvidia-smi reports no GPU.
# Use: spark.executor.resource.gpu.discoveryScript (or spark.worker.resource.gpu.discoveryScript
# for a standalone worker) = the path of this file on every node; see spark-jobs/README.md.
set -euo pipefail

if ! command -v nvidia-smi >/dev/null 2>&1; then
  echo '{"name": "gpu", "addresses": []}'
  exit 0
fi
addresses=""
while read -r index; do
  index=${index//[[:space:]]/}
  [ -z "$index" ] && continue
  addresses+="${addresses:+, }\"$index\""
done < <(nvidia-smi --query-gpu=index --format=csv,noheader)
echo "{\"name\": \"gpu\", \"addresses\": [$addresses]}"
