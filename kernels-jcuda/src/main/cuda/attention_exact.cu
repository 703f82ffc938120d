// Causal grouped-query attention in fp32 on the CUDA cores, forward and backward: the exact path
// (MatmulPrecision.FP32) and the fallback for heads wider than the tensor-core kernels take.
//
// Layout as in the Backend: q, out, dOut are [batch·seqLen, numHeads·headDim]; k, v, dK, dV are
// [batch·seqLen, numKv·headDim]; lse and rowDot are [batch·seqLen, numHeads]. One warp owns one
// (row, head); each lane holds headDim/32 of its values (headDim ≤ 256), so no T×T matrix is
// ever stored: the softmax runs online over the keys.
#include "common.cuh"

using namespace calibra;

namespace {

constexpr int MAX_PER_LANE = 8;

struct Shape {
  int batch, seqLen, numHeads, numKv, headDim;
  __device__ long long tokens() const { return (long long)batch * seqLen; }
  __device__ int group() const { return numHeads / numKv; }
  __device__ long long qStride() const { return (long long)numHeads * headDim; }
  __device__ long long kvStride() const { return (long long)numKv * headDim; }
};

__device__ __forceinline__ long long warp_index() {
  return ((long long)blockIdx.x * blockDim.x + threadIdx.x) / 32;
}

__device__ __forceinline__ void load_row(float (&values)[MAX_PER_LANE], const float* row,
                                         int headDim, int lane) {
#pragma unroll
  for (int i = 0; i < MAX_PER_LANE; i++) {
    const int d = lane + 32 * i;
    values[i] = d < headDim ? row[d] : 0.0f;
  }
}

__device__ __forceinline__ float dot_row(const float (&values)[MAX_PER_LANE], const float* row,
                                         int headDim, int lane) {
  float sum = 0.0f;
#pragma unroll
  for (int i = 0; i < MAX_PER_LANE; i++) {
    const int d = lane + 32 * i;
    if (d < headDim) sum = fmaf(values[i], row[d], sum);
  }
  return warp_sum(sum);
}

__device__ __forceinline__ void store_row(float* row, const float (&values)[MAX_PER_LANE],
                                          float factor, int headDim, int lane) {
#pragma unroll
  for (int i = 0; i < MAX_PER_LANE; i++) {
    const int d = lane + 32 * i;
    if (d < headDim) row[d] = values[i] * factor;
  }
}

}  // namespace

// rowDot[t][h] = Σ_d dOut[t][h·d] · out[t][h·d]: the term every backward kernel subtracts from
// dP. Summed in double, as on the CPU backend.
extern "C" __global__ void attention_row_dot(const float* dOut, const float* out, long long tokens,
                                             int numHeads, int headDim, float* rowDot) {
  const long long w = warp_index();
  const int lane = threadIdx.x % 32;
  if (w >= tokens * numHeads) return;
  const long long offset = (w / numHeads) * numHeads * headDim + (w % numHeads) * headDim;
  double sum = 0;
  for (int d = lane; d < headDim; d += 32) {
    sum += (double)dOut[offset + d] * out[offset + d];
  }
  sum = warp_sum(sum);
  if (lane == 0) rowDot[w] = (float)sum;
}

extern "C" __global__ void attention_forward_f32(const float* q, const float* k, const float* v,
                                                 float* out, float* lse, Shape s, float scale) {
  const long long w = warp_index();
  const int lane = threadIdx.x % 32;
  if (w >= s.tokens() * s.numHeads) return;
  const long long token = w / s.numHeads;
  const int head = (int)(w % s.numHeads);
  const long long first = token - token % s.seqLen;  // the sequence's first token
  const int kvColumn = (head / s.group()) * s.headDim;

  float query[MAX_PER_LANE];
  float acc[MAX_PER_LANE] = {};
  load_row(query, q + token * s.qStride() + head * s.headDim, s.headDim, lane);
  float max = -INFINITY;
  float sum = 0.0f;
  for (long long key = first; key <= token; key++) {
    const float score = dot_row(query, k + key * s.kvStride() + kvColumn, s.headDim, lane) * scale;
    const float newMax = fmaxf(max, score);
    const float correction = expf(max - newMax);
    const float p = expf(score - newMax);
    sum = sum * correction + p;
    const float* value = v + key * s.kvStride() + kvColumn;
#pragma unroll
    for (int i = 0; i < MAX_PER_LANE; i++) {
      const int d = lane + 32 * i;
      acc[i] = acc[i] * correction + (d < s.headDim ? p * value[d] : 0.0f);
    }
    max = newMax;
  }
  store_row(out + token * s.qStride() + head * s.headDim, acc, 1.0f / sum, s.headDim, lane);
  if (lane == 0) lse[w] = max + logf(sum);
}

// dQ[t] = scale · Σ_{j ≤ t} P[t][j] (dP[t][j] − rowDot[t]) · k[j], P rebuilt from lse.
extern "C" __global__ void attention_backward_dq_f32(const float* dOut, const float* q,
                                                     const float* k, const float* v,
                                                     const float* lse, const float* rowDot,
                                                     float* dQ, Shape s, float scale) {
  const long long w = warp_index();
  const int lane = threadIdx.x % 32;
  if (w >= s.tokens() * s.numHeads) return;
  const long long token = w / s.numHeads;
  const int head = (int)(w % s.numHeads);
  const long long first = token - token % s.seqLen;
  const int kvColumn = (head / s.group()) * s.headDim;
  const long long rowOffset = token * s.qStride() + head * s.headDim;

  float query[MAX_PER_LANE];
  float gradient[MAX_PER_LANE];
  float acc[MAX_PER_LANE] = {};
  load_row(query, q + rowOffset, s.headDim, lane);
  load_row(gradient, dOut + rowOffset, s.headDim, lane);
  const float logNorm = lse[w];
  const float dot = rowDot[w];
  for (long long key = first; key <= token; key++) {
    const float* keyRow = k + key * s.kvStride() + kvColumn;
    const float p = expf(dot_row(query, keyRow, s.headDim, lane) * scale - logNorm);
    const float dp = dot_row(gradient, v + key * s.kvStride() + kvColumn, s.headDim, lane);
    const float ds = scale * p * (dp - dot);
#pragma unroll
    for (int i = 0; i < MAX_PER_LANE; i++) {
      const int d = lane + 32 * i;
      if (d < s.headDim) acc[i] = fmaf(ds, keyRow[d], acc[i]);
    }
  }
  store_row(dQ + rowOffset, acc, 1.0f, s.headDim, lane);
}

// dK[j], dV[j] for one (key row, key/value head), summed over the group's query heads and the
// queries at or after j: no two warps write the same row, so no atomics are needed.
extern "C" __global__ void attention_backward_dkdv_f32(const float* dOut, const float* q,
                                                       const float* k, const float* v,
                                                       const float* lse, const float* rowDot,
                                                       float* dK, float* dV, Shape s,
                                                       float scale) {
  const long long w = warp_index();
  const int lane = threadIdx.x % 32;
  if (w >= s.tokens() * s.numKv) return;
  const long long keyToken = w / s.numKv;
  const int kvHead = (int)(w % s.numKv);
  const long long end = keyToken - keyToken % s.seqLen + s.seqLen;  // past the sequence's end
  const long long kvOffset = keyToken * s.kvStride() + kvHead * s.headDim;

  float key[MAX_PER_LANE];
  float value[MAX_PER_LANE];
  float dk[MAX_PER_LANE] = {};
  float dv[MAX_PER_LANE] = {};
  load_row(key, k + kvOffset, s.headDim, lane);
  load_row(value, v + kvOffset, s.headDim, lane);
  for (int head = kvHead * s.group(); head < (kvHead + 1) * s.group(); head++) {
    for (long long token = keyToken; token < end; token++) {
      const long long rowOffset = token * s.qStride() + head * s.headDim;
      const long long stat = token * s.numHeads + head;
      const float* queryRow = q + rowOffset;
      const float* gradientRow = dOut + rowOffset;
      const float p = expf(dot_row(key, queryRow, s.headDim, lane) * scale - lse[stat]);
      const float dp = dot_row(value, gradientRow, s.headDim, lane);
      const float ds = scale * p * (dp - rowDot[stat]);
#pragma unroll
      for (int i = 0; i < MAX_PER_LANE; i++) {
        const int d = lane + 32 * i;
        if (d < s.headDim) {
          dv[i] = fmaf(p, gradientRow[d], dv[i]);
          dk[i] = fmaf(ds, queryRow[d], dk[i]);
        }
      }
    }
  }
  store_row(dK + kvOffset, dk, 1.0f, s.headDim, lane);
  store_row(dV + kvOffset, dv, 1.0f, s.headDim, lane);
}
