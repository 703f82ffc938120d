// Operand packing for the tensor-core GEMMs: an fp32 matrix (either orientation) becomes a bf16
// matrix whose rows run along the reduction dimension k ("k-major"), padded with zeros to
// paddedK columns. The GEMM kernels then see one layout for all four transpose forms, need no
// k-edge handling, and load 16-byte chunks that are always aligned.
#include "common.cuh"

using namespace calibra;

// dst[r][k] = src[r][k] for k < cols, 0 for cols ≤ k < paddedK. One thread writes 8 values.
extern "C" __global__ void pack_bf16_rows(const float* src, long long rows, int cols,
                                          __nv_bfloat16* dst, int paddedK) {
  const int chunksPerRow = paddedK / 8;
  const long long chunks = rows * chunksPerRow;
  const bool vectorRows = (cols % 4) == 0;
  for (long long i = first_index(); i < chunks; i += grid_stride()) {
    const long long r = i / chunksPerRow;
    const int k = (int)(i % chunksPerRow) * 8;
    const float* in = src + r * cols + k;
    float v[8];
    if (vectorRows && k + 8 <= cols) {
      const float4 lo = *reinterpret_cast<const float4*>(in);
      const float4 hi = *reinterpret_cast<const float4*>(in + 4);
      v[0] = lo.x; v[1] = lo.y; v[2] = lo.z; v[3] = lo.w;
      v[4] = hi.x; v[5] = hi.y; v[6] = hi.z; v[7] = hi.w;
    } else {
#pragma unroll
      for (int j = 0; j < 8; j++) {
        v[j] = k + j < cols ? in[j] : 0.0f;
      }
    }
    uint4 packed;
    packed.x = pack_bf16x2(v[0], v[1]);
    packed.y = pack_bf16x2(v[2], v[3]);
    packed.z = pack_bf16x2(v[4], v[5]);
    packed.w = pack_bf16x2(v[6], v[7]);
    *reinterpret_cast<uint4*>(dst + r * paddedK + k) = packed;
  }
}

// dst[c][k] = src[k][c] for k < rows, 0 for rows ≤ k < paddedK: the transpose of a rows×cols
// matrix. 32×32 tiles go through shared memory so that both the reads (along c) and the writes
// (along k) are coalesced. Grid: (paddedK / 32, ceil(cols / 32)), block (32, 8).
extern "C" __global__ void pack_bf16_transposed(const float* src, int rows, int cols,
                                                __nv_bfloat16* dst, int paddedK) {
  __shared__ float tile[32][33];
  const int k0 = blockIdx.x * 32;
  const int c0 = blockIdx.y * 32;
  for (int y = threadIdx.y; y < 32; y += 8) {
    const int k = k0 + y;
    const int c = c0 + threadIdx.x;
    tile[y][threadIdx.x] = (k < rows && c < cols) ? src[(long long)k * cols + c] : 0.0f;
  }
  __syncthreads();
  for (int y = threadIdx.y; y < 32; y += 8) {
    const int c = c0 + y;
    const int k = k0 + threadIdx.x;
    if (c < cols) {
      dst[(long long)c * paddedK + k] = __float2bfloat16_rn(tile[threadIdx.x][y]);
    }
  }
}

// The attention operand layout: src [tokens][heads·headDim] fp32 → dst [tokens][heads][paddedDim]
// bf16, zero past headDim. Every head row then starts on a 16-byte boundary, so the attention
// kernels stage tiles with cp.async whatever the head width. One thread writes 8 values.
extern "C" __global__ void pack_heads_bf16(const float* src, long long tokens, int heads,
                                           int headDim, __nv_bfloat16* dst, int paddedDim) {
  const int chunksPerHead = paddedDim / 8;
  const long long chunks = tokens * heads * chunksPerHead;
  for (long long i = first_index(); i < chunks; i += grid_stride()) {
    const long long row = i / chunksPerHead;  // token · heads + head
    const int d = (int)(i % chunksPerHead) * 8;
    const float* in = src + row * headDim + d;
    float v[8];
#pragma unroll
    for (int j = 0; j < 8; j++) {
      v[j] = d + j < headDim ? in[j] : 0.0f;
    }
    uint4 packed;
    packed.x = pack_bf16x2(v[0], v[1]);
    packed.y = pack_bf16x2(v[2], v[3]);
    packed.z = pack_bf16x2(v[4], v[5]);
    packed.w = pack_bf16x2(v[6], v[7]);
    *reinterpret_cast<uint4*>(dst + row * paddedDim + d) = packed;
  }
}
