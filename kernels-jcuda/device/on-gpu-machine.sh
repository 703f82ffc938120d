#!/usr/bin/env bash
# Runs on the GPU machine, from the staging folder that kernels-jcuda/device-run.sh filled (it
# has no Maven and no network): a check of the basics, the GPU parity tests, CBQ on the GPU
# against the CPU, the calibration ops' timings, the PyTorch reference and the Java benchmark.
# Results go to $OUT, the logs too (packed into logs.tar.gz at the end); the last lines printed
# are the benchmark's tables. Each step runs in its own JVM, so a kernel fault in one does not
# hide the others' results. STEPS picks the steps after the check (default: all).
set -uo pipefail
steps=" ${STEPS:-parity cbq cbq-ops torch bench vq-parity vq-cbq vq-fit} "

stage=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
out=${OUT:-$stage/out}
mkdir -p "$out"
cd "$stage"
export PYTHONUNBUFFERED=1
java_opts=(-Xmx24g -Dcalibra.shared="$stage/shared")
# The CPU backend's SIMD GEMM, as bin/calibra runs it, where the runtime carries the Vector API.
if java --list-modules 2>/dev/null | grep -q '^jdk.incubator.vector'; then
  java_opts+=(--add-modules jdk.incubator.vector)
fi
classpath=$(printf '%s:' lib/*.jar)

echo "== basics" | tee "$out/basics.log"
{
  nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm,clocks.max.sm --format=csv
  java -version 2>&1
  python3 -c 'import torch; print("torch", torch.__version__, torch.cuda.get_device_name())'
} >> "$out/basics.log" 2>&1
cat "$out/basics.log"

echo "== CUDA check (device, kernel modules, start-up checks of the Hopper GEMMs)"
bench_kernels=()
if ! timeout 120 java "${java_opts[@]}" -cp "$classpath" dev.calibra.kernels.cuda.CudaCheck 2>&1 \
    | tee "$out/check.log" || grep -q "failed its start-up check" "$out/check.log"; then
  # A Hopper kernel hangs or computes wrong sums: leave both out of the later steps.
  echo "CUDA check failed: running the rest on the mma.sync GEMM only"
  java_opts+=(-Dcalibra.cuda.gemm=mma)
  bench_kernels=(--kernels mma)
fi

# Prints a JUnit run's counts and its failures.
summarize() {
  grep -E "tests (successful|failed|skipped|aborted)|containers failed" "$1"
  grep -B2 -A12 "MethodSource" "$1" | grep -vE "^\s+at (org.junit|java\.|jdk\.)" | head -60
}

if [[ $steps == *" parity "* ]]; then
  echo "== GPU parity tests"
  timeout 360 java "${java_opts[@]}" -jar junit-platform-console-standalone.jar execute \
    --class-path "test-classes:$classpath" --scan-class-path test-classes --exclude-tag cbq \
    --details=summary --disable-banner > "$out/parity.log" 2>&1
  echo "parity tests exit code $?"
  grep -E "^PARITY|^GPU " "$out/parity.log" > "$out/parity.txt"
  summarize "$out/parity.log"
  grep -E "^PARITY" "$out/parity.log" | awk -F'|' '{print $1}' | sort | uniq -c
fi

if [[ $steps == *" vq-parity "* ]]; then
  echo "== Vector-quantization parity tests"
  timeout 300 java "${java_opts[@]}" -jar junit-platform-console-standalone.jar execute \
    --class-path "test-classes:$classpath" \
    --select-class dev.calibra.kernels.cuda.VectorQuantizationParityTest \
    --details=summary --disable-banner > "$out/vq-parity.log" 2>&1
  echo "VQ parity tests exit code $?"
  grep -E "^PARITY" "$out/vq-parity.log" | tee "$out/vq-parity.txt"
  summarize "$out/vq-parity.log"
fi

if [[ $steps == *" vq-cbq "* ]]; then
  echo "== CBQ with every layer vector-quantized, GPU against CPU (CbqParityTest, VQ case)"
  timeout 300 java "${java_opts[@]}" -jar junit-platform-console-standalone.jar execute \
    --class-path "test-classes:$classpath" \
    --select-method dev.calibra.kernels.cuda.CbqParityTest#stories260kVqD2k4OneEpoch \
    --details=summary --disable-banner > "$out/vq-cbq.log" 2>&1
  echo "VQ CBQ comparison exit code $?"
  grep -E "^CBQ |^PARITY cbq" "$out/vq-cbq.log" | tee "$out/vq-cbq.txt"
  summarize "$out/vq-cbq.log"
fi

if [[ $steps == *" vq-fit "* ]]; then
  echo "== Codebook fitting, 4096×11008 d8 k16, 20 iterations: PyTorch, then Calibra (vq-fit)"
  timeout 240 python3 bench/vq_torch_reference.py "$out/vq-fit-torch.json" 2>&1 | tail -15
  timeout 240 java "${java_opts[@]}" -Dcalibra.bench.results="$out" -cp "$classpath" \
    dev.calibra.bench.VqFitBenchmark --torch "$out/vq-fit-torch.json" > "$out/vq-fit.log" 2>&1
  echo "vq-fit exit code $?"
  tail -12 "$out/vq-fit.log"
fi

if [[ $steps == *" cbq "* ]]; then
  echo "== CBQ calibrated on the GPU and on the CPU (CbqParityTest)"
  timeout 420 java "${java_opts[@]}" -jar junit-platform-console-standalone.jar execute \
    --class-path "test-classes:$classpath" --select-class dev.calibra.kernels.cuda.CbqParityTest \
    --details=summary --disable-banner > "$out/cbq.log" 2>&1
  echo "CBQ comparison exit code $?"
  grep -E "^CBQ |^PARITY cbq" "$out/cbq.log" | tee "$out/cbq.txt"
  summarize "$out/cbq.log"
fi
if [[ $steps == *" cbq-ops "* ]]; then
  echo "== Calibration ops on LLaMA-7B shapes (bench entry cbq-ops)"
  timeout 120 java "${java_opts[@]}" -Dcalibra.bench.results="$out" -cp "$classpath" \
    dev.calibra.bench.CbqOpsBenchmark > "$out/cbq-ops.log" 2>&1
  echo "cbq-ops exit code $?"
  tail -20 "$out/cbq-ops.log"
fi

if [[ $steps == *" torch "* ]]; then
  echo "== PyTorch reference"
  timeout 240 python3 bench/torch_reference.py bench/workload.json "$out/torch.json" 2>&1 | tail -15
fi

if [[ $steps == *" bench "* ]]; then
  echo "== Calibra CUDA benchmark"
  torch_args=()
  [ -f "$out/torch.json" ] && torch_args=(--torch "$out/torch.json")
  timeout 300 java "${java_opts[@]}" -Dcalibra.bench.results="$out" -cp "$classpath" \
    dev.calibra.bench.CudaBenchmark --workload bench/workload.json "${torch_args[@]}" \
    "${bench_kernels[@]}" > "$out/bench.log" 2>&1
  echo "benchmark exit code $?"
  tail -60 "$out/bench.log"
fi

# The device tool brings back at most 8 files: the logs travel as one archive beside the results.
(cd "$out" && tar czf logs.tar.gz ./*.log && rm -f ./*.log)
