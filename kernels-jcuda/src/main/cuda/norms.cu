// RMSNorm forward and backward, and the column sums that bias and norm-weight gradients need.
// Row sums accumulate in double, as the CPU backend does, so both agree to float rounding.
#include "common.cuh"

using namespace calibra;

// One block per row: invRms[r] = 1/sqrt(mean(x²) + eps), out = weight ⊙ (x · invRms[r]); with
// `packed` also out rounded to bf16 there, the operand the next products read.
extern "C" __global__ void rms_norm_forward(const float* x, const float* weight, float* out,
                                            float* invRms, int cols, float eps,
                                            __nv_bfloat16* packed) {
  __shared__ double scratch[32];
  const long long base = (long long)blockIdx.x * cols;
  double squares = 0;
  for (int c = threadIdx.x; c < cols; c += blockDim.x) {
    const double v = x[base + c];
    squares += v * v;
  }
  squares = block_sum(squares, scratch);
  const float scale = (float)(1.0 / sqrt(squares / cols + (double)eps));
  if (threadIdx.x == 0) {
    invRms[blockIdx.x] = scale;
  }
  for (int c = threadIdx.x; c < cols; c += blockDim.x) {
    const float v = weight[c] * (x[base + c] * scale);
    out[base + c] = v;
    if (packed != nullptr) {
      packed[base + c] = __float2bfloat16_rn(v);
    }
  }
}

// One block per row. With s = invRms[r]: dx = s·(w⊙g) − s³/n · x · Σ(w⊙g⊙x); overwrites dx.
extern "C" __global__ void rms_norm_backward_input(const float* dOut, const float* x,
                                                   const float* weight, const float* invRms,
                                                   float* dx, int cols) {
  __shared__ double scratch[32];
  const long long base = (long long)blockIdx.x * cols;
  double dot = 0;
  for (int c = threadIdx.x; c < cols; c += blockDim.x) {
    dot += (double)weight[c] * dOut[base + c] * x[base + c];
  }
  dot = block_sum(dot, scratch);
  const double s = invRms[blockIdx.x];
  const float correction = (float)(s * s * s * dot / cols);
  for (int c = threadIdx.x; c < cols; c += blockDim.x) {
    dx[base + c] = (float)(s * weight[c] * dOut[base + c]) - correction * x[base + c];
  }
}

// First pass of a column sum over rows: partial[chunk][c] = Σ over the chunk's rows of
// a[r][c] · (b ? b[r][c] : 1) · (rowScale ? rowScale[r] : 1), in double. With b and rowScale null
// it is the bias gradient Σ_r dY; with b = x and rowScale = invRms it is the RMSNorm weight
// gradient. Block (32, 8): 32 adjacent columns (coalesced reads), 8 row lanes.
extern "C" __global__ void column_sums_partial(const float* a, const float* b,
                                               const float* rowScale, long long rows, int cols,
                                               int rowsPerChunk, double* partial) {
  __shared__ double lanes[8][33];
  const int c = blockIdx.x * 32 + threadIdx.x;
  const long long first = (long long)blockIdx.y * rowsPerChunk;
  const long long last = min(first + rowsPerChunk, rows);
  double total = 0;
  if (c < cols) {
    for (long long r = first + threadIdx.y; r < last; r += 8) {
      const long long i = r * cols + c;
      double term = a[i];
      if (b != nullptr) {
        term *= b[i];
      }
      if (rowScale != nullptr) {
        term *= rowScale[r];
      }
      total += term;
    }
  }
  lanes[threadIdx.y][threadIdx.x] = total;
  __syncthreads();
  if (threadIdx.y == 0 && c < cols) {
    for (int y = 1; y < 8; y++) {
      total += lanes[y][threadIdx.x];
    }
    partial[(long long)blockIdx.y * cols + c] = total;
  }
}

// Second pass: sum[c] += Σ_chunk partial[chunk][c], in a fixed order (deterministic).
extern "C" __global__ void column_sums_finish(const double* partial, int chunks, int cols,
                                              float* sum) {
  const int c = blockIdx.x * blockDim.x + threadIdx.x;
  if (c < cols) {
    double total = 0;
    for (int k = 0; k < chunks; k++) {
      total += partial[(long long)k * cols + c];
    }
    sum[c] += (float)total;
  }
}
