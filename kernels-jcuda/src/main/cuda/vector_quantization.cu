// Vector quantization: codebook fitting (weighted k-means: nearest codewords, Lloyd's centroid
// update, k-means++ distances), column second moments, and VQ4DiT's soft assignment with its
// gradients. The Java side is VectorQuantization; the specification of every op is Backend's and
// WeightedSubVectors'/SoftVqAssignment's, and CpuVectorQuantizationOps is the reference.
//
// Every float operation is the CPU reference's, in its order: explicit fmaf where the reference
// calls Math.fma, and no other fused multiply-adds:
// nvcc-flags: -fmad=false
//
// Sums across sub-vectors are 64-bit fixed-point integers (rint(v·2^e)): integer additions
// commute, so atomics give the same total on every run and every backend. Index tensors hold
// int32 values as the raw bits of their float32 storage.
#include "common.cuh"

using namespace calibra;

// sum[c] += (float) Σ_r x[r][c]² with the squares and the sum in double, rows in order: one
// thread per column, as the CPU adds them.
extern "C" __global__ void column_squares(const float* x, long long rows, int cols, float* sum) {
  const int c = blockIdx.x * blockDim.x + threadIdx.x;
  if (c >= cols) {
    return;
  }
  double total = 0;
  for (long long r = 0; r < rows; r++) {
    const double v = x[r * cols + c];
    total += v * v;
  }
  sum[c] += (float)total;
}

// ---- Nearest codewords: the distance as a product with the codebook, with a fused arg-min.
//
// A block owns one column of sub-vectors j and NEAREST_ROWS rows of it (ROWS_PER_THREAD per
// thread, kept in registers as m[t] = (−2·h[t])·x[t]). The codebook streams through shared
// memory in tiles of TILE entries; for each tile the block first works out q(c) =
// Σ_t fma(h[t]·c[t], c[t], ·) under this column's channel weights, then every thread scores its
// rows against the tile's entries in ascending order (every thread reads the same entry: a
// shared-memory broadcast), keeping the n best. Nothing of the rows × entries score matrix is
// ever written to memory.

constexpr int NEAREST_THREADS = 256;
constexpr int ROWS_PER_THREAD = 4;
constexpr int NEAREST_ROWS = NEAREST_THREADS * ROWS_PER_THREAD;
constexpr int TILE = 256;
constexpr int MAX_CANDIDATES = 8;

// best[0 … n) ascending; a new score moves down while strictly smaller, so an equal score never
// displaces a lower index (the CPU's insert). The loop is unrolled over the most candidates so
// that best and index stay in registers.
template <int N>
__device__ __forceinline__ void insert(float (&best)[N], int (&index)[N], int n, float score,
                                       int e) {
  float carried = score;
  int carriedIndex = e;
#pragma unroll
  for (int s = 0; s < N; s++) {
    if (s < n && carried < best[s]) {
      const float f = best[s];
      best[s] = carried;
      carried = f;
      const int k = index[s];
      index[s] = carriedIndex;
      carriedIndex = k;
    }
  }
}

// Keeps the n nearest (n = 1 for Lloyd's assignment, up to 8 candidates for VQ4DiT's); N is 1
// for the arg-min kernels and MAX_CANDIDATES for the others.
template <int DIM, int N>
__device__ void nearest(const float* x, long long rows, int cols, const float* h,
                        const float* rowWeights, const float* codebook, int entries, int n,
                        float* indices, double scale, unsigned long long* objective) {
  __shared__ __align__(16) float tile[TILE * DIM];
  __shared__ float q[TILE];
  const int j = blockIdx.x;
  const int perRow = cols / DIM;
  const long long firstRow = (long long)blockIdx.y * NEAREST_ROWS;
  float hj[DIM];
#pragma unroll
  for (int t = 0; t < DIM; t++) {
    hj[t] = h[j * DIM + t];
  }
  float m[ROWS_PER_THREAD][DIM];
  float norm[ROWS_PER_THREAD];
  float best[ROWS_PER_THREAD][N];
  int bestIndex[ROWS_PER_THREAD][N];
#pragma unroll
  for (int k = 0; k < ROWS_PER_THREAD; k++) {
    const long long r = firstRow + k * NEAREST_THREADS + threadIdx.x;
    norm[k] = 0.0f;
#pragma unroll
    for (int t = 0; t < DIM; t++) {
      const float value = r < rows ? x[r * cols + j * DIM + t] : 0.0f;
      m[k][t] = (-2.0f * hj[t]) * value;
      norm[k] = fmaf(hj[t] * value, value, norm[k]);
    }
#pragma unroll
    for (int s = 0; s < N; s++) {
      best[k][s] = INFINITY;
      bestIndex[k][s] = 0;
    }
  }
  for (int base = 0; base < entries; base += TILE) {
    const int count = min(TILE, entries - base);
    __syncthreads();  // the previous tile is no longer read
    for (int i = threadIdx.x; i < count * DIM; i += NEAREST_THREADS) {
      tile[i] = codebook[(long long)base * DIM + i];
    }
    __syncthreads();
    for (int e = threadIdx.x; e < count; e += NEAREST_THREADS) {
      float acc = 0.0f;
#pragma unroll
      for (int t = 0; t < DIM; t++) {
        const float c = tile[e * DIM + t];
        acc = fmaf(hj[t] * c, c, acc);
      }
      q[e] = acc;
    }
    __syncthreads();
    for (int e = 0; e < count; e++) {
      float c[DIM];
#pragma unroll
      for (int t = 0; t < DIM; t++) {
        c[t] = tile[e * DIM + t];
      }
#pragma unroll
      for (int k = 0; k < ROWS_PER_THREAD; k++) {
        float score = q[e];
#pragma unroll
        for (int t = 0; t < DIM; t++) {
          score = fmaf(m[k][t], c[t], score);
        }
        if constexpr (N == 1) {
          if (score < best[k][0]) {
            best[k][0] = score;
            bestIndex[k][0] = base + e;
          }
        } else {
          insert(best[k], bestIndex[k], n, score, base + e);
        }
      }
    }
  }
  unsigned long long sum = 0;
#pragma unroll
  for (int k = 0; k < ROWS_PER_THREAD; k++) {
    const long long r = firstRow + k * NEAREST_THREADS + threadIdx.x;
    if (r < rows) {
      const long long i = r * perRow + j;
#pragma unroll
      for (int s = 0; s < N; s++) {
        if (s < n) {
          indices[i * n + s] = __int_as_float(bestIndex[k][s]);
        }
      }
      const float f = rowWeights == nullptr ? 1.0f : rowWeights[r];
      const float distance = fmaxf(0.0f, f * (norm[k] + best[k][0]));
      sum += (unsigned long long)(long long)rint((double)distance * scale);
    }
  }
  __shared__ unsigned long long scratch[32];
  sum = block_sum(sum, scratch);
  if (threadIdx.x == 0 && sum != 0) {
    atomicAdd(objective, sum);
  }
}

#define NEAREST_KERNELS(D)                                                                  \
  extern "C" __global__ void __launch_bounds__(NEAREST_THREADS)                               \
      nearest_codeword_d##D(const float* x, long long rows, int cols, const float* h,         \
                            const float* rowWeights, const float* codebook, int entries,      \
                            float* indices, double scale, unsigned long long* objective) {    \
    nearest<D, 1>(x, rows, cols, h, rowWeights, codebook, entries, 1, indices, scale,         \
                  objective);                                                                 \
  }                                                                                           \
  extern "C" __global__ void __launch_bounds__(NEAREST_THREADS)                               \
      nearest_codewords_d##D(const float* x, long long rows, int cols, const float* h,        \
                             const float* rowWeights, const float* codebook, int entries,     \
                             int n, float* indices, double scale,                             \
                             unsigned long long* objective) {                                 \
    nearest<D, MAX_CANDIDATES>(x, rows, cols, h, rowWeights, codebook, entries, n, indices,   \
                               scale, objective);                                             \
  }

NEAREST_KERNELS(1)
NEAREST_KERNELS(2)
NEAREST_KERNELS(3)
NEAREST_KERNELS(4)
NEAREST_KERNELS(5)
NEAREST_KERNELS(6)
NEAREST_KERNELS(7)
NEAREST_KERNELS(8)

// ---- Lloyd's update: per codeword and dimension, Σ f·h·x and Σ f·h over its sub-vectors in
// fixed point (the segmented sums of the assignment), then their quotient.

// One thread per sub-vector element (r, j, t): numerator[e][t] += rint((f·h)·x · 2^e),
// denominator[e][t] += rint(f·h · 2^e). The products are the CPU's floats.
extern "C" __global__ void centroid_sums(const float* x, long long rows, int cols, int dim,
                                         const float* h, const float* rowWeights,
                                         const float* assignment, int entries, double scale,
                                         unsigned long long* numerator,
                                         unsigned long long* denominator, int* badIndex) {
  const long long n = rows * cols;
  const int perRow = cols / dim;
  for (long long k = first_index(); k < n; k += grid_stride()) {
    const long long r = k / cols;
    const int column = (int)(k - r * cols);
    const int j = column / dim;
    const int t = column - j * dim;
    const int e = __float_as_int(assignment[r * perRow + j]);
    if (e < 0 || e >= entries) {
      atomicMin(badIndex, (int)min(r * perRow + j, (long long)0x7fffffff));
      continue;
    }
    const float f = rowWeights == nullptr ? 1.0f : rowWeights[r];
    const float w = f * h[column];
    const long long num = (long long)rint((double)(w * x[k]) * scale);
    const long long den = (long long)rint((double)w * scale);
    if (num != 0) {
      atomicAdd(&numerator[e * dim + t], (unsigned long long)num);
    }
    if (den != 0) {
      atomicAdd(&denominator[e * dim + t], (unsigned long long)den);
    }
  }
}

// codebook[k] = numerator[k] / denominator[k] (as doubles, rounded to float) where the
// denominator is not 0.
extern "C" __global__ void centroid_divide(const unsigned long long* numerator,
                                           const unsigned long long* denominator, long long n,
                                           float* codebook) {
  for (long long k = first_index(); k < n; k += grid_stride()) {
    const long long den = (long long)denominator[k];
    if (den != 0) {
      codebook[k] = (float)((double)(long long)numerator[k] / (double)den);
    }
  }
}

// ---- k-means++: minDistance[i] = min(minDistance[i], f·D(i, chosen)), and each block's share
// of the fixed-point total, partial[block] (blocks own consecutive ranges of sub-vectors, which
// is what lets the host find the drawn sub-vector's block from the partial sums).
extern "C" __global__ void kmeanspp_distances(const float* x, long long rows, int cols, int dim,
                                              const float* h, const float* rowWeights,
                                              long long chosenOffset, float* minDistance,
                                              long long perBlock, double scale,
                                              long long* partial) {
  const int perRow = cols / dim;
  const long long count = rows * perRow;
  const long long first = (long long)blockIdx.x * perBlock;
  const long long end = min(count, first + perBlock);
  float centroid[8];
  for (int t = 0; t < dim; t++) {
    centroid[t] = x[chosenOffset + t];
  }
  long long sum = 0;
  for (long long i = first + threadIdx.x; i < end; i += blockDim.x) {
    const long long r = i / perRow;
    const int j = (int)(i - r * perRow);
    const long long offset = r * cols + (long long)j * dim;
    float d = 0.0f;
    for (int t = 0; t < dim; t++) {
      const float diff = x[offset + t] - centroid[t];
      d = fmaf(h[j * dim + t] * diff, diff, d);
    }
    const float f = rowWeights == nullptr ? 1.0f : rowWeights[r];
    const float updated = fminf(minDistance[i], f * d);
    minDistance[i] = updated;
    sum += (long long)rint((double)updated * scale);
  }
  __shared__ long long scratch[32];
  sum = block_sum(sum, scratch);
  if (threadIdx.x == 0) {
    partial[blockIdx.x] = sum;
  }
}

// ---- VQ4DiT's soft assignment (see SoftVqAssignment).

// p[0 … n) = softmax(logits / T) of one sub-vector, as the CPU computes it.
__device__ __forceinline__ void probabilities(const float* logits, int n, float temperature,
                                              float* p) {
  float max = logits[0];
  for (int c = 1; c < n; c++) {
    max = fmaxf(max, logits[c]);
  }
  double e[8];
  double sum = 0;
  for (int c = 0; c < n; c++) {
    const float z = (logits[c] - max) / temperature;
    e[c] = exp((double)z);
    sum += e[c];
  }
  for (int c = 0; c < n; c++) {
    p[c] = (float)(e[c] / sum);
  }
}

// One thread per sub-vector: out = s[r] · Σ_c p_c · C[cand_c] (float sums, c ascending).
extern "C" __global__ void soft_vq_weights(long long count, int cols, int dim, int n,
                                           const float* candidates, const float* logits,
                                           float temperature, const float* codebook,
                                           const float* rowScales, float* out) {
  const int perRow = cols / dim;
  for (long long i = first_index(); i < count; i += grid_stride()) {
    float p[8];
    probabilities(logits + i * n, n, temperature, p);
    float acc[8];
    for (int t = 0; t < dim; t++) {
      acc[t] = 0.0f;
    }
    for (int c = 0; c < n; c++) {
      const int e = __float_as_int(candidates[i * n + c]);
      for (int t = 0; t < dim; t++) {
        acc[t] += p[c] * codebook[(long long)e * dim + t];
      }
    }
    const long long r = i / perRow;
    const long long offset = r * cols + (i - r * perRow) * dim;
    for (int t = 0; t < dim; t++) {
      out[offset + t] = rowScales == nullptr ? acc[t] : rowScales[r] * acc[t];
    }
  }
}

// One thread per sub-vector: g_c = s·Σ_t C[cand_c, t]·dŵ_t, dLogits_c += p_c·(g_c − Σ p·g)/T;
// the probabilities also go to probs (count × n, nullable) for the codebook's gradient.
extern "C" __global__ void soft_vq_logit_gradient(long long count, int cols, int dim, int n,
                                                  const float* candidates, const float* logits,
                                                  float temperature, const float* codebook,
                                                  const float* rowScales, const float* dOut,
                                                  float* dLogits, float* probs) {
  const int perRow = cols / dim;
  for (long long i = first_index(); i < count; i += grid_stride()) {
    float p[8];
    probabilities(logits + i * n, n, temperature, p);
    if (probs != nullptr) {
      for (int c = 0; c < n; c++) {
        probs[i * n + c] = p[c];
      }
    }
    const long long r = i / perRow;
    const long long offset = r * cols + (i - r * perRow) * dim;
    float g[8];
    float mean = 0.0f;
    for (int c = 0; c < n; c++) {
      const int e = __float_as_int(candidates[i * n + c]);
      float dot = 0.0f;
      for (int t = 0; t < dim; t++) {
        dot += codebook[(long long)e * dim + t] * dOut[offset + t];
      }
      g[c] = rowScales == nullptr ? dot : rowScales[r] * dot;
      mean += p[c] * g[c];
    }
    for (int c = 0; c < n; c++) {
      dLogits[i * n + c] += p[c] * (g[c] - mean) / temperature;
    }
  }
}

// One thread per codebook value (e, t): dC[e][t] += Σ over the codeword's uses, in their listed
// order, of (s·p)·dŵ, summed in double (p as soft_vq_logit_gradient wrote it). The uses are the codeword's segment of a CSR list, so
// no two threads write the same value and the order is fixed.
extern "C" __global__ void soft_vq_codebook_gradient(int entries, int cols, int dim, int n,
                                                     const float* probs, const float* rowScales,
                                                     const float* useOffsets, const float* uses,
                                                     const float* dOut, float* dCodebook) {
  const int perRow = cols / dim;
  const long long total = (long long)entries * dim;
  for (long long k = first_index(); k < total; k += grid_stride()) {
    const int e = (int)(k / dim);
    const int t = (int)(k - (long long)e * dim);
    const int from = __float_as_int(useOffsets[e]);
    const int to = __float_as_int(useOffsets[e + 1]);
    double acc = 0;
    for (int u = from; u < to; u++) {
      const int slot = __float_as_int(uses[u]);
      const long long i = slot / n;
      const long long r = i / perRow;
      const long long offset = r * cols + (i - r * perRow) * dim;
      const float s = rowScales == nullptr ? 1.0f : rowScales[r];
      acc += (double)((s * probs[slot]) * dOut[offset + t]);
    }
    dCodebook[k] += (float)acc;
  }
}
