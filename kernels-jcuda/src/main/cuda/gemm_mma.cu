// Tensor-core GEMM for sm_80 and later: C (fp32, row-major, ldc) = [C +] A·Bᵀ with A [M][paddedK]
// and B [N][paddedK] packed bf16 (see pack.cu), fp32 accumulation.
//
// 128×128 tiles, k in steps of 64, 8 warps each owning a 64×32 piece (4×4 mma.sync m16n8k16),
// operands staged through a 4-deep cp.async pipeline in 128-byte-swizzled shared memory and read
// with ldmatrix. Rows past M or N are zero-filled on load and skipped on store.
#include "common.cuh"

using namespace calibra;

namespace {

constexpr int BM = 128;
constexpr int BN = 128;
constexpr int BK = 64;
constexpr int STAGES = 4;
constexpr int THREADS = 256;
constexpr int STAGE_BYTES = (BM + BN) * BK * 2;
// Consecutive blocks walk down GROUP_M row tiles before moving right, so the B tiles they share
// are still in L2.
constexpr int GROUP_M = 8;

__device__ __forceinline__ void load_stage(const __nv_bfloat16* A, const __nv_bfloat16* B, int M,
                                           int N, int paddedK, int tileM, int tileN, int kTile,
                                           uint32_t stage) {
  const int chunksA = BM * (BK / 8);
#pragma unroll
  for (int i = 0; i < (BM + BN) * (BK / 8) / THREADS; i++) {
    const int chunk = threadIdx.x + i * THREADS;
    const bool isA = chunk < chunksA;
    const int local = isA ? chunk : chunk - chunksA;
    const int row = local / (BK / 8);
    const int column = local % (BK / 8);
    const int globalRow = (isA ? tileM * BM : tileN * BN) + row;
    const int limit = isA ? M : N;
    const bool valid = globalRow < limit;
    const __nv_bfloat16* base = isA ? A : B;
    const __nv_bfloat16* source =
        base + (long long)(valid ? globalRow : 0) * paddedK + kTile * BK + column * 8;
    const uint32_t destination = stage + (isA ? 0 : BM * BK * 2) + swizzle_128(row, column);
    cp_async_16(destination, source, valid);
  }
}

}  // namespace

extern "C" __global__ void __launch_bounds__(THREADS)
    gemm_bf16_mma(const __nv_bfloat16* A, const __nv_bfloat16* B, float* C, int M, int N,
                  int paddedK, int ldc, int accumulate) {
  extern __shared__ __align__(128) unsigned char shared[];
  const uint32_t base = shared_address(shared);

  const int tilesM = (M + BM - 1) / BM;
  const int tilesN = (N + BN - 1) / BN;
  const int perGroup = GROUP_M * tilesN;
  const int group = blockIdx.x / perGroup;
  const int firstM = group * GROUP_M;
  const int groupRows = min(tilesM - firstM, GROUP_M);
  const int tileM = firstM + (blockIdx.x % perGroup) % groupRows;
  const int tileN = (blockIdx.x % perGroup) / groupRows;

  const int warp = threadIdx.x / 32;
  const int lane = threadIdx.x % 32;
  const int warpM = warp / 4;  // 0..1: 64 rows each
  const int warpN = warp % 4;  // 0..3: 32 columns each

  float acc[4][4][4];
#pragma unroll
  for (int i = 0; i < 4; i++)
#pragma unroll
    for (int j = 0; j < 4; j++)
#pragma unroll
      for (int e = 0; e < 4; e++) acc[i][j][e] = 0.0f;

  const int kTiles = paddedK / BK;
#pragma unroll
  for (int s = 0; s < STAGES - 1; s++) {
    if (s < kTiles) {
      load_stage(A, B, M, N, paddedK, tileM, tileN, s, base + s * STAGE_BYTES);
    }
    cp_async_commit();
  }

  for (int kt = 0; kt < kTiles; kt++) {
    cp_async_wait<STAGES - 2>();
    __syncthreads();
    // The slot refilled here was read in iteration kt − 1, which every warp has finished.
    const int next = kt + STAGES - 1;
    if (next < kTiles) {
      load_stage(A, B, M, N, paddedK, tileM, tileN, next, base + (next % STAGES) * STAGE_BYTES);
    }
    cp_async_commit();

    const uint32_t stageA = base + (kt % STAGES) * STAGE_BYTES;
    const uint32_t stageB = stageA + BM * BK * 2;
#pragma unroll
    for (int ks = 0; ks < BK / 16; ks++) {
      uint32_t a[4][4];
#pragma unroll
      for (int mi = 0; mi < 4; mi++) {
        const int row = warpM * 64 + mi * 16 + (lane % 16);
        ldmatrix_x4(a[mi], stageA + swizzle_128(row, ks * 2 + lane / 16));
      }
      uint32_t b[2][4];
#pragma unroll
      for (int np = 0; np < 2; np++) {
        const int row = warpN * 32 + np * 16 + (lane % 8) + 8 * (lane / 16);
        ldmatrix_x4(b[np], stageB + swizzle_128(row, ks * 2 + (lane / 8) % 2));
      }
#pragma unroll
      for (int mi = 0; mi < 4; mi++)
#pragma unroll
        for (int ni = 0; ni < 4; ni++)
          mma_bf16_16816(acc[mi][ni], a[mi], b[ni / 2][(ni % 2) * 2], b[ni / 2][(ni % 2) * 2 + 1]);
    }
  }
  cp_async_wait<0>();

  const bool pairs = (ldc % 2) == 0;
#pragma unroll
  for (int mi = 0; mi < 4; mi++) {
#pragma unroll
    for (int half = 0; half < 2; half++) {
      const int row = tileM * BM + warpM * 64 + mi * 16 + lane / 4 + half * 8;
      if (row >= M) continue;
      float* out = C + (long long)row * ldc;
#pragma unroll
      for (int ni = 0; ni < 4; ni++) {
        const int col = tileN * BN + warpN * 32 + ni * 8 + (lane % 4) * 2;
        float v0 = acc[mi][ni][half * 2];
        float v1 = acc[mi][ni][half * 2 + 1];
        if (pairs && col + 1 < N) {
          float2* target = reinterpret_cast<float2*>(out + col);
          if (accumulate) {
            const float2 old = *target;
            v0 += old.x;
            v1 += old.y;
          }
          *target = make_float2(v0, v1);
        } else {
          if (col < N) out[col] = accumulate ? out[col] + v0 : v0;
          if (col + 1 < N) out[col + 1] = accumulate ? out[col + 1] + v1 : v1;
        }
      }
    }
  }
}
