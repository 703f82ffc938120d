// The exact GEMM: fp32 inputs, fp32 products and sums on the CUDA cores (no tensor cores, no
// TF32), for parity work and evaluations that bf16 inputs would disturb.
// C[m][n] = [C +] Σ_k op(A)[m][k] · op(B)[k][n], where element (i, j) of op(X) is
// X[i·rowStride + j·colStride], which covers both orientations of a row-major matrix.
//
// 64×64 tiles, k in steps of 16, 256 threads each computing a 4×4 block of C.
#include "common.cuh"

namespace {
constexpr int TILE = 64;
constexpr int KSTEP = 16;
}  // namespace

extern "C" __global__ void __launch_bounds__(256)
    gemm_f32(const float* A, long long aRowStride, long long aColStride, const float* B,
             long long bRowStride, long long bColStride, float* C, int M, int N, int K, int ldc,
             int accumulate) {
  __shared__ float As[KSTEP][TILE + 4];
  __shared__ float Bs[KSTEP][TILE + 4];
  const int m0 = blockIdx.y * TILE;
  const int n0 = blockIdx.x * TILE;
  const int tx = threadIdx.x % 16;
  const int ty = threadIdx.x / 16;
  float acc[4][4] = {};

  for (int k0 = 0; k0 < K; k0 += KSTEP) {
    // 64×16 values of each operand, 4 per thread.
    for (int i = threadIdx.x; i < TILE * KSTEP; i += 256) {
      const int row = i / KSTEP;
      const int k = i % KSTEP;
      const int m = m0 + row;
      const int n = n0 + row;
      const int kk = k0 + k;
      As[k][row] = (m < M && kk < K) ? A[m * aRowStride + kk * aColStride] : 0.0f;
      Bs[k][row] = (n < N && kk < K) ? B[kk * bRowStride + n * bColStride] : 0.0f;
    }
    __syncthreads();
#pragma unroll
    for (int k = 0; k < KSTEP; k++) {
      float a[4];
      float b[4];
#pragma unroll
      for (int i = 0; i < 4; i++) {
        a[i] = As[k][ty * 4 + i];
        b[i] = Bs[k][tx * 4 + i];
      }
#pragma unroll
      for (int i = 0; i < 4; i++)
#pragma unroll
        for (int j = 0; j < 4; j++) acc[i][j] = fmaf(a[i], b[j], acc[i][j]);
    }
    __syncthreads();
  }

#pragma unroll
  for (int i = 0; i < 4; i++) {
    const int m = m0 + ty * 4 + i;
    if (m >= M) continue;
#pragma unroll
    for (int j = 0; j < 4; j++) {
      const int n = n0 + tx * 4 + j;
      if (n < N) {
        float* out = C + (long long)m * ldc + n;
        *out = accumulate ? *out + acc[i][j] : acc[i][j];
      }
    }
  }
}
