// Causal grouped-query attention on the tensor cores (bf16 operands, fp32 accumulation and
// softmax), flash-attention style: a block owns a tile of rows and walks 64-row tiles of the
// other side, so no T×T matrix is stored. Forward writes out and the log-sum-exp; backward
// rebuilds the probabilities from the log-sum-exp, one kernel for dQ (per query tile) and one for
// dK and dV (per key tile, summing the group's query heads in registers: no atomics,
// deterministic).
//
// q, k, v and dOut arrive packed as bf16 [tokens][heads][DP] (pack_heads_bf16), DP being the head
// width padded with zeros to a multiple of 16 (the mma k step): scores are exact, padded output
// columns are not written. Tiles are staged with cp.async, the next one while the current one is
// multiplied; each warp owns 16 rows, and fragments come from shared memory via ldmatrix.
#include "common.cuh"

using namespace calibra;

namespace {

constexpr int ROWS = 64;          // keys (forward, dq) or queries (dkdv) per staged tile
constexpr int QUERY_ROWS = 128;   // queries per block in forward and dq: 8 warps × 16
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

// Starts asynchronous copies of rows [firstRow, firstRow + ROWS_) of one head into a staged
// tile: `head` points at the head's row of the sequence's first token in the packed operand
// ([tokens][heads][DP] bf16, see pack_heads_bf16), rows are `stride` elements apart; rows past
// seqLen are zero-filled.
template <int DP, int ROWS_>
__device__ __forceinline__ void stage_tile_async(__nv_bfloat16* tile, const __nv_bfloat16* head,
                                                 long long stride, int firstRow, int seqLen) {
  constexpr int CHUNKS = DP / 8;
  for (int i = threadIdx.x; i < ROWS_ * CHUNKS; i += blockDim.x) {
    const int r = i / CHUNKS;
    const int c = i % CHUNKS;
    const int row = firstRow + r;
    const bool valid = row < seqLen;
    cp_async_16(shared_address(tile + r * pitch<DP>() + c * 8),
                head + (valid ? row : 0) * stride + c * 8, valid);
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

// Writes rows (16 per warp, mma layout) of a 64-row block to a strided fp32 matrix, times factor[r],
// and where `copy` is not null the same in bf16 at the same offsets of `copy`: the operand of the
// products that read the output next.
template <int DP>
__device__ __forceinline__ void store_rows(float* destination, __nv_bfloat16* copy,
                                           long long stride, int firstRow, int seqLen,
                                           int headDim, const float (&acc)[DP / 8][4],
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
        if (copy != nullptr) {
          *reinterpret_cast<uint32_t*>(copy + row * stride + d) = pack_bf16x2(v0, v1);
        }
      } else {
#pragma unroll
        for (int e = 0; e < 2; e++) {
          if (d + e < headDim) {
            out[d + e] = e == 0 ? v0 : v1;
            if (copy != nullptr) copy[row * stride + d + e] = __float2bfloat16_rn(e == 0 ? v0 : v1);
          }
        }
      }
    }
  }
}

// Forward for one 128-query tile (8 warps × 16 rows) of one head: K and V tiles of 64 keys are
// double-buffered, the next one copied in while the current one is multiplied.
template <int DP>
__device__ void forward(const __nv_bfloat16* q, const __nv_bfloat16* k, const __nv_bfloat16* v,
                        float* out, __nv_bfloat16* outCopy, float* lse, Shape s, float scale) {
  extern __shared__ __align__(16) unsigned char shared[];
  __nv_bfloat16* Qs = reinterpret_cast<__nv_bfloat16*>(shared);
  __nv_bfloat16* Ks = Qs + 2 * tile_elements<DP>();  // two 64-row buffers
  __nv_bfloat16* Vs = Ks + 2 * tile_elements<DP>();
  const int qTile = gridDim.x - 1 - blockIdx.x;  // the longest rows start first
  const int head = blockIdx.y;
  const long long firstToken = (long long)blockIdx.z * s.seqLen;
  const int warp = threadIdx.x / 32;
  const int lane = threadIdx.x % 32;
  const int kvHead = head / s.group();
  const long long qStride = (long long)s.numHeads * DP;
  const long long kvStride = (long long)s.numKv * DP;
  const __nv_bfloat16* kHead = k + (firstToken * s.numKv + kvHead) * DP;
  const __nv_bfloat16* vHead = v + (firstToken * s.numKv + kvHead) * DP;
  const int firstQuery = qTile * QUERY_ROWS;
  const int lastQuery = min(firstQuery + QUERY_ROWS, s.seqLen) - 1;
  const int kTiles = lastQuery / ROWS + 1;
  const int warpFirst = firstQuery + warp * 16;
  const int warpLast = warpFirst + 15;
  const float scaleLog2 = scale * LOG2E;

  stage_tile_async<DP, QUERY_ROWS>(Qs, q + (firstToken * s.numHeads + head) * DP, qStride,
                                   firstQuery, s.seqLen);
  stage_tile_async<DP, ROWS>(Ks, kHead, kvStride, 0, s.seqLen);
  stage_tile_async<DP, ROWS>(Vs, vHead, kvStride, 0, s.seqLen);
  cp_async_commit();
  float acc[DP / 8][4] = {};
  float rowMax[2] = {-INFINITY, -INFINITY};
  float rowSum[2] = {0.0f, 0.0f};  // this thread's share; the quad's four shares add up at the end

  for (int kTile = 0; kTile < kTiles; kTile++) {
    const int buffer = (kTile & 1) * tile_elements<DP>();
    if (kTile + 1 < kTiles) {
      const int next = ((kTile + 1) & 1) * tile_elements<DP>();
      stage_tile_async<DP, ROWS>(Ks + next, kHead, kvStride, (kTile + 1) * ROWS, s.seqLen);
      stage_tile_async<DP, ROWS>(Vs + next, vHead, kvStride, (kTile + 1) * ROWS, s.seqLen);
    }
    cp_async_commit();
    cp_async_wait<1>();
    __syncthreads();
    if (kTile * ROWS <= warpLast) {  // else every key of the tile is after this warp's queries
      const bool diagonal = kTile * ROWS + ROWS - 1 > warpFirst;
      float p[8][4];
      scores<DP>(p, Qs, warp * 16, Ks + buffer, lane);
#pragma unroll
      for (int half = 0; half < 2; half++) {
        const int query = warpFirst + lane / 4 + 8 * half;
        float tileMax = -INFINITY;
#pragma unroll
        for (int nt = 0; nt < 8; nt++)
#pragma unroll
          for (int e = 0; e < 2; e++) {
            const int key = kTile * ROWS + nt * 8 + (lane % 4) * 2 + e;
            float x = p[nt][2 * half + e] * scaleLog2;
            if (diagonal && key > query) x = -INFINITY;
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
      accumulate_product<DP>(acc, p, Vs + buffer, lane);
    }
    __syncthreads();  // the buffer is refilled in the next iteration
  }

  float inverse[2];
#pragma unroll
  for (int half = 0; half < 2; half++) {
    float total = rowSum[half];
    total += __shfl_xor_sync(0xffffffffu, total, 1);
    total += __shfl_xor_sync(0xffffffffu, total, 2);
    inverse[half] = 1.0f / total;
    const int row = warpFirst + lane / 4 + 8 * half;
    if (lane % 4 == 0 && row < s.seqLen) {
      lse[(firstToken + row) * s.numHeads + head] = rowMax[half] / LOG2E + logf(total);
    }
  }
  const long long offset = firstToken * s.qStride() + head * s.headDim;
  store_rows<DP>(out + offset, outCopy == nullptr ? nullptr : outCopy + offset, s.qStride(),
                 firstQuery, s.seqLen, s.headDim, acc, inverse, warp, lane);
}

// lse·log2(e) and rowDot of one row, or +∞ and 0 past the sequence end (probability 0 there).
__device__ __forceinline__ void row_stats(float& lseLog2, float& dot, const float* lse,
                                          const float* rowDot, long long firstToken, int row,
                                          int seqLen, int numHeads, int head) {
  const bool valid = row < seqLen;
  const long long stat = (firstToken + row) * numHeads + head;
  lseLog2 = valid ? lse[stat] * LOG2E : INFINITY;
  dot = valid ? rowDot[stat] : 0.0f;
}

// dQ for one 128-query tile (8 warps × 16 rows) of one head, K and V double-buffered.
template <int DP>
__device__ void backward_dq(const __nv_bfloat16* dOut, const __nv_bfloat16* q,
                            const __nv_bfloat16* k, const __nv_bfloat16* v, const float* lse,
                            const float* rowDot, float* dQ, Shape s, float scale) {
  extern __shared__ __align__(16) unsigned char shared[];
  __nv_bfloat16* Qs = reinterpret_cast<__nv_bfloat16*>(shared);
  __nv_bfloat16* dOs = Qs + 2 * tile_elements<DP>();
  __nv_bfloat16* Ks = dOs + 2 * tile_elements<DP>();
  __nv_bfloat16* Vs = Ks + 2 * tile_elements<DP>();
  const int qTile = gridDim.x - 1 - blockIdx.x;
  const int head = blockIdx.y;
  const long long firstToken = (long long)blockIdx.z * s.seqLen;
  const int warp = threadIdx.x / 32;
  const int lane = threadIdx.x % 32;
  const int kvHead = head / s.group();
  const long long qStride = (long long)s.numHeads * DP;
  const long long kvStride = (long long)s.numKv * DP;
  const __nv_bfloat16* kHead = k + (firstToken * s.numKv + kvHead) * DP;
  const __nv_bfloat16* vHead = v + (firstToken * s.numKv + kvHead) * DP;
  const long long qHead = (firstToken * s.numHeads + head) * DP;
  const int firstQuery = qTile * QUERY_ROWS;
  const int lastQuery = min(firstQuery + QUERY_ROWS, s.seqLen) - 1;
  const int kTiles = lastQuery / ROWS + 1;
  const int warpFirst = firstQuery + warp * 16;
  const int warpLast = warpFirst + 15;
  const float scaleLog2 = scale * LOG2E;

  stage_tile_async<DP, QUERY_ROWS>(Qs, q + qHead, qStride, firstQuery, s.seqLen);
  stage_tile_async<DP, QUERY_ROWS>(dOs, dOut + qHead, qStride, firstQuery, s.seqLen);
  stage_tile_async<DP, ROWS>(Ks, kHead, kvStride, 0, s.seqLen);
  stage_tile_async<DP, ROWS>(Vs, vHead, kvStride, 0, s.seqLen);
  cp_async_commit();
  float lseLog2[2];
  float dots[2];
#pragma unroll
  for (int half = 0; half < 2; half++) {
    row_stats(lseLog2[half], dots[half], lse, rowDot, firstToken, warpFirst + lane / 4 + 8 * half,
              s.seqLen, s.numHeads, head);
  }
  float acc[DP / 8][4] = {};

  for (int kTile = 0; kTile < kTiles; kTile++) {
    const int buffer = (kTile & 1) * tile_elements<DP>();
    if (kTile + 1 < kTiles) {
      const int next = ((kTile + 1) & 1) * tile_elements<DP>();
      stage_tile_async<DP, ROWS>(Ks + next, kHead, kvStride, (kTile + 1) * ROWS, s.seqLen);
      stage_tile_async<DP, ROWS>(Vs + next, vHead, kvStride, (kTile + 1) * ROWS, s.seqLen);
    }
    cp_async_commit();
    cp_async_wait<1>();
    __syncthreads();
    if (kTile * ROWS <= warpLast) {
      const bool diagonal = kTile * ROWS + ROWS - 1 > warpFirst;
      float p[8][4];
      float dp[8][4];
      scores<DP>(p, Qs, warp * 16, Ks + buffer, lane);
      scores<DP>(dp, dOs, warp * 16, Vs + buffer, lane);
#pragma unroll
      for (int half = 0; half < 2; half++) {
        const int query = warpFirst + lane / 4 + 8 * half;
#pragma unroll
        for (int nt = 0; nt < 8; nt++)
#pragma unroll
          for (int e = 0; e < 2; e++) {
            const int key = kTile * ROWS + nt * 8 + (lane % 4) * 2 + e;
            const int i = 2 * half + e;
            float prob = exp2f(p[nt][i] * scaleLog2 - lseLog2[half]);
            if (diagonal && key > query) prob = 0.0f;
            p[nt][i] = prob * (dp[nt][i] - dots[half]);  // dS
          }
      }
      accumulate_product<DP>(acc, p, Ks + buffer, lane);
    }
    __syncthreads();
  }
  const float factor[2] = {scale, scale};
  store_rows<DP>(dQ + firstToken * s.qStride() + head * s.headDim, nullptr, s.qStride(),
                 firstQuery, s.seqLen, s.headDim, acc, factor, warp, lane);
}

// dK and dV for one 64-key tile (4 warps × 16 keys) of one key/value head: the steps are the
// (query head of the group, 64-query tile at or after the keys) pairs, with Q, dOut and their
// row statistics double-buffered.
template <int DP>
__device__ void backward_dkdv(const __nv_bfloat16* dOut, const __nv_bfloat16* q,
                              const __nv_bfloat16* k, const __nv_bfloat16* v, const float* lse,
                              const float* rowDot, float* dK, float* dV, __nv_bfloat16* dVCopy,
                              Shape s, float scale) {
  extern __shared__ __align__(16) unsigned char shared[];
  __nv_bfloat16* Ks = reinterpret_cast<__nv_bfloat16*>(shared);
  __nv_bfloat16* Vs = Ks + tile_elements<DP>();
  __nv_bfloat16* Qs = Vs + tile_elements<DP>();     // two buffers
  __nv_bfloat16* dOs = Qs + 2 * tile_elements<DP>();  // two buffers
  float* lseLog2 = reinterpret_cast<float*>(dOs + 2 * tile_elements<DP>());  // [2][64]
  float* dots = lseLog2 + 2 * ROWS;                                            // [2][64]
  const int kTile = blockIdx.x;  // tile 0 has the most queries after it: it starts first
  const int kvHead = blockIdx.y;
  const long long firstToken = (long long)blockIdx.z * s.seqLen;
  const int warp = threadIdx.x / 32;
  const int lane = threadIdx.x % 32;
  const long long qStride = (long long)s.numHeads * DP;
  const long long kvStride = (long long)s.numKv * DP;
  const long long kvHeadOffset = (firstToken * s.numKv + kvHead) * DP;
  const float scaleLog2 = scale * LOG2E;
  const int stepsPerHead = s.tiles() - kTile;
  const int steps = s.group() * stepsPerHead;

  // Step j: query head kvHead·group + j / stepsPerHead, query tile kTile + j % stepsPerHead.
  auto stage_step = [&](int j, int slot) {
    const int head = kvHead * s.group() + j / stepsPerHead;
    const int firstQuery = (kTile + j % stepsPerHead) * ROWS;
    const long long qHead = (firstToken * s.numHeads + head) * DP;
    stage_tile_async<DP, ROWS>(Qs + slot * tile_elements<DP>(), q + qHead, qStride, firstQuery, s.seqLen);
    stage_tile_async<DP, ROWS>(dOs + slot * tile_elements<DP>(), dOut + qHead, qStride, firstQuery,
                               s.seqLen);
    if (threadIdx.x < ROWS) {
      row_stats(lseLog2[slot * ROWS + threadIdx.x], dots[slot * ROWS + threadIdx.x], lse, rowDot,
                firstToken, firstQuery + threadIdx.x, s.seqLen, s.numHeads, head);
    }
  };

  stage_tile_async<DP, ROWS>(Ks, k + kvHeadOffset, kvStride, kTile * ROWS, s.seqLen);
  stage_tile_async<DP, ROWS>(Vs, v + kvHeadOffset, kvStride, kTile * ROWS, s.seqLen);
  stage_step(0, 0);
  cp_async_commit();
  float dk[DP / 8][4] = {};
  float dv[DP / 8][4] = {};

  for (int j = 0; j < steps; j++) {
    const int slot = j & 1;
    if (j + 1 < steps) {
      stage_step(j + 1, slot ^ 1);
    }
    cp_async_commit();
    cp_async_wait<1>();
    __syncthreads();
    const __nv_bfloat16* Q = Qs + slot * tile_elements<DP>();
    const __nv_bfloat16* dO = dOs + slot * tile_elements<DP>();
    const float* stepLse = lseLog2 + slot * ROWS;
    const float* stepDots = dots + slot * ROWS;
    const bool diagonal = j % stepsPerHead == 0;  // the query tile that holds these keys
    // Transposed scores: rows are this warp's keys, columns the tile's queries.
    float p[8][4];
    float dp[8][4];
    scores<DP>(p, Ks, warp * 16, Q, lane);
    scores<DP>(dp, Vs, warp * 16, dO, lane);
#pragma unroll
    for (int half = 0; half < 2; half++) {
      const int key = warp * 16 + lane / 4 + 8 * half;  // within the tile
#pragma unroll
      for (int nt = 0; nt < 8; nt++)
#pragma unroll
        for (int e = 0; e < 2; e++) {
          const int query = nt * 8 + (lane % 4) * 2 + e;  // within the tile
          const int i = 2 * half + e;
          float prob = exp2f(p[nt][i] * scaleLog2 - stepLse[query]);
          if (diagonal && query < key) prob = 0.0f;
          p[nt][i] = prob;
          dp[nt][i] = prob * (dp[nt][i] - stepDots[query]);  // dSᵀ
        }
    }
    accumulate_product<DP>(dv, p, dO, lane);
    accumulate_product<DP>(dk, dp, Q, lane);
    __syncthreads();
  }
  const float ones[2] = {1.0f, 1.0f};
  const float scales[2] = {scale, scale};
  const long long kvOffset = firstToken * s.kvStride() + kvHead * s.headDim;
  store_rows<DP>(dK + kvOffset, nullptr, s.kvStride(), kTile * ROWS, s.seqLen, s.headDim, dk,
                 scales, warp, lane);
  store_rows<DP>(dV + kvOffset, dVCopy == nullptr ? nullptr : dVCopy + kvOffset, s.kvStride(),
                 kTile * ROWS, s.seqLen, s.headDim, dv, ones, warp, lane);
}

}  // namespace

// One entry point per padded head width. Operands q, k, v, dOut are packed bf16
// ([tokens][heads][DP], pack_heads_bf16); out, lse, rowDot, dQ, dK, dV are the Backend's fp32
// tensors. forward and dq: grid (query tiles of 128, numHeads, batch), 256 threads; dkdv: grid
// (key tiles of 64, numKv, batch), 128 threads. Dynamic shared memory, in 64-row tiles of
// 64·(DP+8) bf16: forward 6, dq 8, dkdv 6 tiles + 4·64 floats.
#define ATTENTION_ENTRY_POINTS(DP)                                                                \
  extern "C" __global__ void __launch_bounds__(256, 2) attention_forward_bf16_d##DP(              \
      const __nv_bfloat16* q, const __nv_bfloat16* k, const __nv_bfloat16* v, float* out,         \
      __nv_bfloat16* outCopy, float* lse, Shape s, float scale) {                                 \
    forward<DP>(q, k, v, out, outCopy, lse, s, scale);                                            \
  }                                                                                               \
  extern "C" __global__ void __launch_bounds__(256) attention_backward_dq_bf16_d##DP(             \
      const __nv_bfloat16* dOut, const __nv_bfloat16* q, const __nv_bfloat16* k,                  \
      const __nv_bfloat16* v, const float* lse, const float* rowDot, float* dQ, Shape s,          \
      float scale) {                                                                              \
    backward_dq<DP>(dOut, q, k, v, lse, rowDot, dQ, s, scale);                                    \
  }                                                                                               \
  extern "C" __global__ void __launch_bounds__(128) attention_backward_dkdv_bf16_d##DP(           \
      const __nv_bfloat16* dOut, const __nv_bfloat16* q, const __nv_bfloat16* k,                  \
      const __nv_bfloat16* v, const float* lse, const float* rowDot, float* dK, float* dV,        \
      __nv_bfloat16* dVCopy, Shape s, float scale) {                                              \
    backward_dkdv<DP>(dOut, q, k, v, lse, rowDot, dK, dV, dVCopy, s, scale);                      \
  }

ATTENTION_ENTRY_POINTS(16)
ATTENTION_ENTRY_POINTS(32)
ATTENTION_ENTRY_POINTS(64)
ATTENTION_ENTRY_POINTS(128)
