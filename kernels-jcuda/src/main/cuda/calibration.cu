// The calibration ops besides weight quantization: reconstruction losses, Adam, per-token
// activation fake-quantization (with QDrop) and column maxima.
//
// As in weight_quantization.cu, every float and double operation is the CPU reference's
// (CpuQuantizationOps), in its order and precision, without fused multiply-adds:
// nvcc-flags: -fmad=false
//
// Sums that the ops return are deterministic: each block writes its partial sum (a fixed tree
// over its threads) and sum_in_order adds the partial sums, always in the same order.
#include "common.cuh"

using namespace calibra;

// *total = Σ parts[i], by one block: thread t adds parts t, t + blockDim, … in order, then the
// block's fixed reduction tree adds the threads' sums.
extern "C" __global__ void sum_in_order(const double* parts, long long n, double* total) {
  __shared__ double scratch[32];
  double sum = 0;
  for (long long i = threadIdx.x; i < n; i += blockDim.x) {
    sum += parts[i];
  }
  sum = block_sum(sum, scratch);
  if (threadIdx.x == 0) {
    *total = sum;
  }
}

// partial[block] = this block's share of Σ (pred − target)²;
// dPred = gradScale · 2 · (pred − target).
extern "C" __global__ void squared_error(const float* pred, const float* target, long long n,
                                         float gradScale, float* dPred, double* partial) {
  __shared__ double scratch[32];
  double sum = 0;
  for (long long i = first_index(); i < n; i += grid_stride()) {
    const float diff = pred[i] - target[i];
    sum += (double)diff * diff;
    dPred[i] = gradScale * 2.0f * diff;
  }
  sum = block_sum(sum, scratch);
  if (threadIdx.x == 0) {
    partial[blockIdx.x] = sum;
  }
}

// One block per row: rowKl[r] = KL(softmax(target/T) ‖ softmax(pred/T)), and
// dPred += gradScale · (softmax(pred/T) − softmax(target/T)) / T. Log-softmax in double.
extern "C" __global__ void softmax_kl_rows(const float* target, const float* pred, int cols,
                                           float temperature, float gradScale, float* dPred,
                                           double* rowKl) {
  __shared__ float maxScratch[32];
  __shared__ double sumScratch[32];
  const long long base = (long long)blockIdx.x * cols;
  float targetMax = -INFINITY;
  float predMax = -INFINITY;
  for (int c = threadIdx.x; c < cols; c += blockDim.x) {
    targetMax = fmaxf(targetMax, target[base + c] / temperature);
    predMax = fmaxf(predMax, pred[base + c] / temperature);
  }
  targetMax = block_max(targetMax, maxScratch);
  predMax = block_max(predMax, maxScratch);
  double targetSum = 0;
  double predSum = 0;
  for (int c = threadIdx.x; c < cols; c += blockDim.x) {
    targetSum += exp((double)(target[base + c] / temperature) - targetMax);
    predSum += exp((double)(pred[base + c] / temperature) - predMax);
  }
  targetSum = block_sum(targetSum, sumScratch);
  predSum = block_sum(predSum, sumScratch);
  const double targetLogNorm = targetMax + log(targetSum);
  const double predLogNorm = predMax + log(predSum);
  double kl = 0;
  for (int c = threadIdx.x; c < cols; c += blockDim.x) {
    const double logP = (double)(target[base + c] / temperature) - targetLogNorm;
    const double logQ = (double)(pred[base + c] / temperature) - predLogNorm;
    const double p = exp(logP);
    kl += p * (logP - logQ);
    dPred[base + c] += (float)(gradScale * (exp(logQ) - p) / temperature);
  }
  kl = block_sum(kl, sumScratch);
  if (threadIdx.x == 0) {
    rowKl[blockIdx.x] = kl;
  }
}

// One Adam step with bias corrections c1 = 1 − β1^t and c2 = 1 − β2^t (see AdamStep).
extern "C" __global__ void adam_update(float* param, const float* grad, float* m, float* v,
                                       long long n, float learningRate, float beta1, float beta2,
                                       float epsilon, float c1, float c2) {
  for (long long i = first_index(); i < n; i += grid_stride()) {
    const float g = grad[i];
    m[i] = beta1 * m[i] + (1.0f - beta1) * g;
    v[i] = beta2 * v[i] + (1.0f - beta2) * g * g;
    param[i] -= learningRate * (m[i] / c1) / ((float)sqrt((double)(v[i] / c2)) + epsilon);
  }
}

// CounterRandom.uniform: SplitMix64's finaliser of seed + index·φ, top 24 bits as a float in
// [0, 1). Java's long arithmetic wraps as unsigned 64-bit arithmetic does, and >>> is the
// unsigned shift, so the bits are the CPU's.
__device__ __forceinline__ float counter_uniform(unsigned long long seed,
                                                 unsigned long long index) {
  unsigned long long z = seed + index * 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  z = z ^ (z >> 31);
  return (float)(z >> 40) * 0x1.0p-24f;
}

// One block per row: per-token asymmetric fake quantization onto the grid spanning the row's
// [min, max] (widened to hold 0); with QDrop an entry keeps its float value when its uniform
// draw falls below dropProbability. out may be x: every value is read before any is written.
extern "C" __global__ void fake_quantize_activations(const float* x, float* out, int cols,
                                                     float maxCode, float dropProbability,
                                                     long long seed) {
  __shared__ float scratch[32];
  const long long base = (long long)blockIdx.x * cols;
  float min = 0.0f;
  float max = 0.0f;
  for (int c = threadIdx.x; c < cols; c += blockDim.x) {
    min = fminf(min, x[base + c]);
    max = fmaxf(max, x[base + c]);
  }
  min = -block_max(-min, scratch);
  max = block_max(max, scratch);
  if (max == min) {  // an all-zero row is exact already
    for (int c = threadIdx.x; c < cols; c += blockDim.x) {
      out[base + c] = x[base + c];
    }
    return;
  }
  const float step = (max - min) / maxCode;
  const float zero = rintf(-min / step);
  for (int c = threadIdx.x; c < cols; c += blockDim.x) {
    const long long i = base + c;
    const float value = x[i];
    if (dropProbability > 0.0f && counter_uniform(seed, i) < dropProbability) {
      out[i] = value;
    } else {
      const float code = fmaxf(0.0f, fminf(maxCode, rintf(value / step) + zero));
      out[i] = step * (code - zero);
    }
  }
}

// First pass of runningMax[c] = max(runningMax[c], max_r |x[r][c]|): partial[chunk][c] is the
// maximum over the chunk's rows. Block (32, 8): 32 adjacent columns, 8 row lanes.
extern "C" __global__ void column_abs_max_partial(const float* x, long long rows, int cols,
                                                  int rowsPerChunk, float* partial) {
  __shared__ float lanes[8][33];
  const int c = blockIdx.x * 32 + threadIdx.x;
  const long long first = (long long)blockIdx.y * rowsPerChunk;
  const long long last = min(first + rowsPerChunk, rows);
  float max = 0.0f;
  if (c < cols) {
    for (long long r = first + threadIdx.y; r < last; r += 8) {
      max = fmaxf(max, fabsf(x[r * cols + c]));
    }
  }
  lanes[threadIdx.y][threadIdx.x] = max;
  __syncthreads();
  if (threadIdx.y == 0 && c < cols) {
    for (int y = 1; y < 8; y++) {
      max = fmaxf(max, lanes[y][threadIdx.x]);
    }
    partial[(long long)blockIdx.y * cols + c] = max;
  }
}

// Second pass: runningMax[c] = max(runningMax[c], partial[·][c]). The maximum of floats is
// exact, so the order of the passes does not matter.
extern "C" __global__ void column_abs_max_finish(const float* partial, int chunks, int cols,
                                                 float* runningMax) {
  const int c = blockIdx.x * blockDim.x + threadIdx.x;
  if (c < cols) {
    float max = runningMax[c];
    for (int k = 0; k < chunks; k++) {
      max = fmaxf(max, partial[(long long)k * cols + c]);
    }
    runningMax[c] = max;
  }
}
