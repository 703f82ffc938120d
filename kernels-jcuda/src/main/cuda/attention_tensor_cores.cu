// Causal grouped-query attention on the tensor cores (bf16 operands, fp32 accumulation and
// softmax), flash-attention style: a block owns 64 rows and walks 64-row tiles of the other side,
// so no T×T matrix is stored. Forward writes out and the log-sum-exp; backward rebuilds the
// probabilities from the log-sum-exp, one kernel for dQ (per query tile) and one for dK and dV
// (per key tile, summing the group's query heads in registers: no atomics, deterministic).
//
// Inputs are the Backend's fp32 tensors (layout as in attention_exact.cu); tiles are rounded to
// bf16 as they are staged into shared memory. DP is the head width padded to a multiple of 16
// (the mma k step); the padding is zero, so scores are exact and padded outputs are not written.
// 4 warps each own 16 of the block's 64 rows; fragments come from shared memory via ldmatrix.
#include "common.cuh"

using namespace calibra;

namespace {

constexpr int ROWS = 64;
constexpr int THREADS = 128;
constexpr float LOG2E = 1.4426950408889634f;

struct Shape {
  int batch, seqLen, numHeads, numKv, headDim;
  __device__ int group() const { return numHeads / numKv; }
  __device__ long long qStride() const { return (long long)numHeads * headDim; }
  __device__ long long kvStride() const { return (long long)numKv * headDim; }
  __device__ int tiles() const { return (seqLen + ROWS - 1) / ROWS; }
};

// Row pitch of a staged tile in bf16 elements: 16 bytes of padding put the 8 rows that one
// ldmatrix reads into 8 different bank groups.
template <int DP>
__host__ __device__ constexpr int pitch() {
  return DP + 8;
}

template <int DP>
__host__ __device__ constexpr int tile_elements() {
  return ROWS * pitch<DP>();
}

// Stages rows [firstRow, firstRow + 64) of one head (source points at the head's column of the
// sequence's first row; rows are `stride` apart) into `tile` as bf16, zero past seqLen and headDim.
template <int DP>
__device__ void stage_tile(__nv_bfloat16* tile, const float* source, long long stride,
                           int firstRow, int seqLen, int headDim) {
  constexpr int GROUPS = DP / 4;
  const bool vectors = (headDim % 4) == 0;
  for (int i = threadIdx.x; i < ROWS * GROUPS; i += THREADS) {
    const int r = i / GROUPS;
    const int d = (i % GROUPS) * 4;
    const int row = firstRow + r;
    float4 value = make_float4(0.0f, 0.0f, 0.0f, 0.0f);
    if (row < seqLen) {
      const float* p = source + row * stride + d;
      if (vectors && d + 4 <= headDim) {
        value = *reinterpret_cast<const float4*>(p);
      } else {
        value.x = d < headDim ? p[0] : 0.0f;
        value.y = d + 1 < headDim ? p[1] : 0.0f;
        value.z = d + 2 < headDim ? p[2] : 0.0f;
        value.w = d + 3 < headDim ? p[3] : 0.0f;
      }
    }
    uint2 packed;
    packed.x = pack_bf16x2(value.x, value.y);
    packed.y = pack_bf16x2(value.z, value.w);
    *reinterpret_cast<uint2*>(tile + r * pitch<DP>() + d) = packed;
  }
}

// A operand (16 rows from `row0`, k-step ks) of a tile stored row-major along k.
template <int DP>
__device__ __forceinline__ void load_a(uint32_t (&a)[4], const __nv_bfloat16* tile, int row0,
                                       int ks, int lane) {
  ldmatrix_x4(a, shared_address(tile + (row0 + lane % 16) * pitch<DP>() + ks * 16 + (lane / 16) * 8));
}

// B operands of two n8 tiles (rows n0 … n0+15 of a tile whose rows are n and run along k):
// b[0], b[1] for n0 … n0+7 and b[2], b[3] for n0+8 … n0+15.
template <int DP>
__device__ __forceinline__ void load_b_rows(uint32_t (&b)[4], const __nv_bfloat16* tile, int n0,
                                            int ks, int lane) {
  ldmatrix_x4(b, shared_address(tile + (n0 + lane % 8 + 8 * (lane / 16)) * pitch<DP>() + ks * 16 +
                                ((lane / 8) % 2) * 8));
}

// B operands of two n8 tiles (columns n0 … n0+15) for k-step kk of a tile whose rows run along k
// (rows k, columns n): the transposed load.
template <int DP>
__device__ __forceinline__ void load_b_columns(uint32_t (&b)[4], const __nv_bfloat16* tile, int n0,
                                               int kk, int lane) {
  ldmatrix_x4_trans(b, shared_address(tile + (kk * 16 + lane % 8 + 8 * ((lane / 8) % 2)) * pitch<DP>() +
                                      n0 + 8 * (lane / 16)));
}

// acc (16 × 64, 8 n8 tiles) = A rows [row0, +16) of `a` · rows [0, 64) of `b`ᵀ over DP.
template <int DP>
__device__ __forceinline__ void scores(float (&acc)[8][4], const __nv_bfloat16* a, int row0,
                                       const __nv_bfloat16* b, int lane) {
#pragma unroll
  for (int nt = 0; nt < 8; nt++)
#pragma unroll
    for (int e = 0; e < 4; e++) acc[nt][e] = 0.0f;
#pragma unroll
  for (int ks = 0; ks < DP / 16; ks++) {
    uint32_t fa[4];
    load_a<DP>(fa, a, row0, ks, lane);
#pragma unroll
    for (int np = 0; np < 4; np++) {
      uint32_t fb[4];
      load_b_rows<DP>(fb, b, np * 16, ks, lane);
      mma_bf16_16816(acc[2 * np], fa, fb[0], fb[1]);
      mma_bf16_16816(acc[2 * np + 1], fa, fb[2], fb[3]);
    }
  }
}

// out (16 × DP) += P (16 × 64, in mma accumulator layout) · tile (64 rows along k, DP columns).
template <int DP>
__device__ __forceinline__ void accumulate_product(float (&out)[DP / 8][4], const float (&p)[8][4],
                                                   const __nv_bfloat16* tile, int lane) {
#pragma unroll
  for (int kk = 0; kk < 4; kk++) {
    // An accumulator tile pair is exactly the A fragment of the next product.
    uint32_t a[4];
    a[0] = pack_bf16x2(p[2 * kk][0], p[2 * kk][1]);
    a[1] = pack_bf16x2(p[2 * kk][2], p[2 * kk][3]);
    a[2] = pack_bf16x2(p[2 * kk + 1][0], p[2 * kk + 1][1]);
    a[3] = pack_bf16x2(p[2 * kk + 1][2], p[2 * kk + 1][3]);
#pragma unroll
    for (int dp = 0; dp < DP / 16; dp++) {
      uint32_t b[4];
      load_b_columns<DP>(b, tile, dp * 16, kk, lane);
      mma_bf16_16816(out[2 * dp], a, b[0], b[1]);
      mma_bf16_16816(out[2 * dp + 1], a, b[2], b[3]);
    }
  }
}

// Writes rows (16 per warp, mma layout) of a 64-row block to a strided fp32 matrix, times factor[r].
template <int DP>
__device__ __forceinline__ void store_rows(float* destination, long long stride, int firstRow,
                                           int seqLen, int headDim, const float (&acc)[DP / 8][4],
                                           const float (&factor)[2], int warp, int lane) {
#pragma unroll
  for (int half = 0; half < 2; half++) {
    const int row = firstRow + warp * 16 + lane / 4 + 8 * half;
    if (row >= seqLen) continue;
    float* out = destination + row * stride;
#pragma unroll
    for (int nt = 0; nt < DP / 8; nt++) {
      const int d = nt * 8 + (lane % 4) * 2;
      const float v0 = acc[nt][2 * half] * factor[half];
      const float v1 = acc[nt][2 * half + 1] * factor[half];
      if (d + 1 < headDim && (headDim % 2) == 0) {
        *reinterpret_cast<float2*>(out + d) = make_float2(v0, v1);
      } else {
        if (d < headDim) out[d] = v0;
        if (d + 1 < headDim) out[d + 1] = v1;
      }
    }
  }
}

template <int DP>
__device__ void forward(const float* q, const float* k, const float* v, float* out, float* lse,
                        Shape s, float scale) {
  extern __shared__ __align__(16) unsigned char shared[];
  __nv_bfloat16* Qs = reinterpret_cast<__nv_bfloat16*>(shared);
  __nv_bfloat16* Ks = Qs + tile_elements<DP>();
  __nv_bfloat16* Vs = Ks + tile_elements<DP>();
  const int qTile = s.tiles() - 1 - blockIdx.x;  // the longest rows start first
  const int head = blockIdx.y;
  const int sequence = blockIdx.z;
  const int warp = threadIdx.x / 32;
  const int lane = threadIdx.x % 32;
  const long long firstToken = (long long)sequence * s.seqLen;
  const int kvColumn = (head / s.group()) * s.headDim;
  const float* qBase = q + firstToken * s.qStride() + head * s.headDim;
  const float* kBase = k + firstToken * s.kvStride() + kvColumn;
  const float* vBase = v + firstToken * s.kvStride() + kvColumn;
  const float scaleLog2 = scale * LOG2E;

  stage_tile<DP>(Qs, qBase, s.qStride(), qTile * ROWS, s.seqLen, s.headDim);
  float acc[DP / 8][4] = {};
  float rowMax[2] = {-INFINITY, -INFINITY};
  float rowSum[2] = {0.0f, 0.0f};  // this thread's share; the quad's four shares add up at the end

  for (int kTile = 0; kTile <= qTile; kTile++) {
    __syncthreads();  // the previous tile is no longer read
    stage_tile<DP>(Ks, kBase, s.kvStride(), kTile * ROWS, s.seqLen, s.headDim);
    stage_tile<DP>(Vs, vBase, s.kvStride(), kTile * ROWS, s.seqLen, s.headDim);
    __syncthreads();
    float p[8][4];
    scores<DP>(p, Qs, warp * 16, Ks, lane);
#pragma unroll
    for (int half = 0; half < 2; half++) {
      const int query = qTile * ROWS + warp * 16 + lane / 4 + 8 * half;
      float tileMax = -INFINITY;
#pragma unroll
      for (int nt = 0; nt < 8; nt++)
#pragma unroll
        for (int e = 0; e < 2; e++) {
          const int key = kTile * ROWS + nt * 8 + (lane % 4) * 2 + e;
          float x = p[nt][2 * half + e] * scaleLog2;
          if (kTile == qTile && key > query) x = -INFINITY;
          p[nt][2 * half + e] = x;
          tileMax = fmaxf(tileMax, x);
        }
      tileMax = fmaxf(tileMax, __shfl_xor_sync(0xffffffffu, tileMax, 1));
      tileMax = fmaxf(tileMax, __shfl_xor_sync(0xffffffffu, tileMax, 2));
      const float newMax = fmaxf(rowMax[half], tileMax);
      const float correction = exp2f(rowMax[half] - newMax);
      rowMax[half] = newMax;
      rowSum[half] *= correction;
#pragma unroll
      for (int nt = 0; nt < DP / 8; nt++) {
        acc[nt][2 * half] *= correction;
        acc[nt][2 * half + 1] *= correction;
      }
#pragma unroll
      for (int nt = 0; nt < 8; nt++)
#pragma unroll
        for (int e = 0; e < 2; e++) {
          const float e2 = exp2f(p[nt][2 * half + e] - newMax);
          p[nt][2 * half + e] = e2;
          rowSum[half] += e2;
        }
    }
    accumulate_product<DP>(acc, p, Vs, lane);
  }

  float inverse[2];
#pragma unroll
  for (int half = 0; half < 2; half++) {
    float total = rowSum[half];
    total += __shfl_xor_sync(0xffffffffu, total, 1);
    total += __shfl_xor_sync(0xffffffffu, total, 2);
    inverse[half] = 1.0f / total;
    const int row = qTile * ROWS + warp * 16 + lane / 4 + 8 * half;
    if (lane % 4 == 0 && row < s.seqLen) {
      lse[(firstToken + row) * s.numHeads + head] = rowMax[half] / LOG2E + logf(total);
    }
  }
  store_rows<DP>(out + firstToken * s.qStride() + head * s.headDim, s.qStride(), qTile * ROWS,
                 s.seqLen, s.headDim, acc, inverse, warp, lane);
}

// Per-row statistics of a staged query tile, pre-scaled for exp2: lse·log2(e) (+∞ past the
// sequence end, so those rows get probability 0) and rowDot (0 there).
__device__ void stage_row_stats(float* lseLog2, float* dots, const float* lse, const float* rowDot,
                                long long firstToken, int firstRow, int seqLen, int numHeads,
                                int head) {
  if (threadIdx.x < ROWS) {
    const int row = firstRow + threadIdx.x;
    const bool valid = row < seqLen;
    const long long stat = (firstToken + row) * numHeads + head;
    lseLog2[threadIdx.x] = valid ? lse[stat] * LOG2E : INFINITY;
    dots[threadIdx.x] = valid ? rowDot[stat] : 0.0f;
  }
}

template <int DP>
__device__ void backward_dq(const float* dOut, const float* q, const float* k, const float* v,
                            const float* lse, const float* rowDot, float* dQ, Shape s,
                            float scale) {
  extern __shared__ __align__(16) unsigned char shared[];
  __nv_bfloat16* Qs = reinterpret_cast<__nv_bfloat16*>(shared);
  __nv_bfloat16* dOs = Qs + tile_elements<DP>();
  __nv_bfloat16* Ks = dOs + tile_elements<DP>();
  __nv_bfloat16* Vs = Ks + tile_elements<DP>();
  float* lseLog2 = reinterpret_cast<float*>(Vs + tile_elements<DP>());
  float* dots = lseLog2 + ROWS;
  const int qTile = s.tiles() - 1 - blockIdx.x;
  const int head = blockIdx.y;
  const int sequence = blockIdx.z;
  const int warp = threadIdx.x / 32;
  const int lane = threadIdx.x % 32;
  const long long firstToken = (long long)sequence * s.seqLen;
  const int kvColumn = (head / s.group()) * s.headDim;
  const long long qOffset = firstToken * s.qStride() + head * s.headDim;
  const float* kBase = k + firstToken * s.kvStride() + kvColumn;
  const float* vBase = v + firstToken * s.kvStride() + kvColumn;
  const float scaleLog2 = scale * LOG2E;

  stage_tile<DP>(Qs, q + qOffset, s.qStride(), qTile * ROWS, s.seqLen, s.headDim);
  stage_tile<DP>(dOs, dOut + qOffset, s.qStride(), qTile * ROWS, s.seqLen, s.headDim);
  stage_row_stats(lseLog2, dots, lse, rowDot, firstToken, qTile * ROWS, s.seqLen, s.numHeads, head);
  float acc[DP / 8][4] = {};

  for (int kTile = 0; kTile <= qTile; kTile++) {
    __syncthreads();
    stage_tile<DP>(Ks, kBase, s.kvStride(), kTile * ROWS, s.seqLen, s.headDim);
    stage_tile<DP>(Vs, vBase, s.kvStride(), kTile * ROWS, s.seqLen, s.headDim);
    __syncthreads();
    float p[8][4];
    float dp[8][4];
    scores<DP>(p, Qs, warp * 16, Ks, lane);
    scores<DP>(dp, dOs, warp * 16, Vs, lane);
#pragma unroll
    for (int half = 0; half < 2; half++) {
      const int local = warp * 16 + lane / 4 + 8 * half;
      const int query = qTile * ROWS + local;
#pragma unroll
      for (int nt = 0; nt < 8; nt++)
#pragma unroll
        for (int e = 0; e < 2; e++) {
          const int key = kTile * ROWS + nt * 8 + (lane % 4) * 2 + e;
          const int i = 2 * half + e;
          float prob = exp2f(p[nt][i] * scaleLog2 - lseLog2[local]);
          if (kTile == qTile && key > query) prob = 0.0f;
          p[nt][i] = prob * (dp[nt][i] - dots[local]);  // dS
        }
    }
    accumulate_product<DP>(acc, p, Ks, lane);
  }
  const float factor[2] = {scale, scale};
  store_rows<DP>(dQ + qOffset, s.qStride(), qTile * ROWS, s.seqLen, s.headDim, acc, factor, warp,
                 lane);
}

template <int DP>
__device__ void backward_dkdv(const float* dOut, const float* q, const float* k, const float* v,
                              const float* lse, const float* rowDot, float* dK, float* dV,
                              Shape s, float scale) {
  extern __shared__ __align__(16) unsigned char shared[];
  __nv_bfloat16* Ks = reinterpret_cast<__nv_bfloat16*>(shared);
  __nv_bfloat16* Vs = Ks + tile_elements<DP>();
  __nv_bfloat16* Qs = Vs + tile_elements<DP>();
  __nv_bfloat16* dOs = Qs + tile_elements<DP>();
  float* lseLog2 = reinterpret_cast<float*>(dOs + tile_elements<DP>());
  float* dots = lseLog2 + ROWS;
  const int kTile = blockIdx.x;  // tile 0 has the most queries after it: it starts first
  const int kvHead = blockIdx.y;
  const int sequence = blockIdx.z;
  const int warp = threadIdx.x / 32;
  const int lane = threadIdx.x % 32;
  const long long firstToken = (long long)sequence * s.seqLen;
  const long long kvOffset = firstToken * s.kvStride() + kvHead * s.headDim;
  const float scaleLog2 = scale * LOG2E;

  stage_tile<DP>(Ks, k + kvOffset, s.kvStride(), kTile * ROWS, s.seqLen, s.headDim);
  stage_tile<DP>(Vs, v + kvOffset, s.kvStride(), kTile * ROWS, s.seqLen, s.headDim);
  float dk[DP / 8][4] = {};
  float dv[DP / 8][4] = {};

  for (int head = kvHead * s.group(); head < (kvHead + 1) * s.group(); head++) {
    const long long qOffset = firstToken * s.qStride() + head * s.headDim;
    for (int qTile = kTile; qTile < s.tiles(); qTile++) {
      __syncthreads();
      stage_tile<DP>(Qs, q + qOffset, s.qStride(), qTile * ROWS, s.seqLen, s.headDim);
      stage_tile<DP>(dOs, dOut + qOffset, s.qStride(), qTile * ROWS, s.seqLen, s.headDim);
      stage_row_stats(lseLog2, dots, lse, rowDot, firstToken, qTile * ROWS, s.seqLen, s.numHeads,
                      head);
      __syncthreads();
      // Transposed scores: rows are this warp's keys, columns the tile's queries.
      float p[8][4];
      float dp[8][4];
      scores<DP>(p, Ks, warp * 16, Qs, lane);
      scores<DP>(dp, Vs, warp * 16, dOs, lane);
#pragma unroll
      for (int half = 0; half < 2; half++) {
        const int key = kTile * ROWS + warp * 16 + lane / 4 + 8 * half;
#pragma unroll
        for (int nt = 0; nt < 8; nt++)
#pragma unroll
          for (int e = 0; e < 2; e++) {
            const int local = nt * 8 + (lane % 4) * 2 + e;
            const int i = 2 * half + e;
            float prob = exp2f(p[nt][i] * scaleLog2 - lseLog2[local]);
            if (qTile == kTile && qTile * ROWS + local < key) prob = 0.0f;
            p[nt][i] = prob;
            dp[nt][i] = prob * (dp[nt][i] - dots[local]);  // dSᵀ
          }
      }
      accumulate_product<DP>(dv, p, dOs, lane);
      accumulate_product<DP>(dk, dp, Qs, lane);
    }
  }
  const float ones[2] = {1.0f, 1.0f};
  const float scales[2] = {scale, scale};
  store_rows<DP>(dK + kvOffset, s.kvStride(), kTile * ROWS, s.seqLen, s.headDim, dk, scales, warp,
                 lane);
  store_rows<DP>(dV + kvOffset, s.kvStride(), kTile * ROWS, s.seqLen, s.headDim, dv, ones, warp,
                 lane);
}

}  // namespace

// One entry point per padded head width. Grids: forward and dq (query tiles, numHeads, batch),
// dkdv (key tiles, numKv, batch); 128 threads; dynamic shared memory: forward 3 tiles, backward
// 4 tiles + 2·64 floats (a tile is 64·(DP+8) bf16).
#define ATTENTION_ENTRY_POINTS(DP)                                                                \
  extern "C" __global__ void __launch_bounds__(THREADS) attention_forward_bf16_d##DP(             \
      const float* q, const float* k, const float* v, float* out, float* lse, Shape s,            \
      float scale) {                                                                              \
    forward<DP>(q, k, v, out, lse, s, scale);                                                     \
  }                                                                                               \
  extern "C" __global__ void __launch_bounds__(THREADS) attention_backward_dq_bf16_d##DP(         \
      const float* dOut, const float* q, const float* k, const float* v, const float* lse,        \
      const float* rowDot, float* dQ, Shape s, float scale) {                                     \
    backward_dq<DP>(dOut, q, k, v, lse, rowDot, dQ, s, scale);                                    \
  }                                                                                               \
  extern "C" __global__ void __launch_bounds__(THREADS) attention_backward_dkdv_bf16_d##DP(       \
      const float* dOut, const float* q, const float* k, const float* v, const float* lse,        \
      const float* rowDot, float* dK, float* dV, Shape s, float scale) {                          \
    backward_dkdv<DP>(dOut, q, k, v, lse, rowDot, dK, dV, s, scale);                              \
  }

ATTENTION_ENTRY_POINTS(16)
ATTENTION_ENTRY_POINTS(32)
ATTENTION_ENTRY_POINTS(64)
ATTENTION_ENTRY_POINTS(128)
