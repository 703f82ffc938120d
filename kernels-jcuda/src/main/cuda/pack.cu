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

namespace {

constexpr int TILE = 64;  // a transposed block moves a 64 (k) × 64 (c) tile

// Values [c, c + 4) of source row k as floats, 0 outside rows × cols.
__device__ __forceinline__ void load_source(const float* __restrict__ src, long long pitch,
                                            int rows, int cols, int k, int c, float (&v)[4]) {
  const float* in = src + k * pitch + c;
  if (k < rows && c + 4 <= cols && pitch % 4 == 0) {
    const float4 x = *reinterpret_cast<const float4*>(in);
    v[0] = x.x; v[1] = x.y; v[2] = x.z; v[3] = x.w;
  } else {
#pragma unroll
    for (int j = 0; j < 4; j++) {
      v[j] = k < rows && c + j < cols ? in[j] : 0.0f;
    }
  }
}

// Values [c, c + 8) of row k of an untransposed bf16 copy (pitch a multiple of 64 that covers the
// tile, zero past cols), 0 past rows.
__device__ __forceinline__ void load_source(const __nv_bfloat16* __restrict__ src,
                                            long long pitch, int rows, int cols, int k, int c,
                                            float (&v)[8]) {
  uint4 x = make_uint4(0, 0, 0, 0);
  if (k < rows) {
    x = *reinterpret_cast<const uint4*>(src + k * pitch + c);
  }
  const __nv_bfloat162* pairs = reinterpret_cast<const __nv_bfloat162*>(&x);
#pragma unroll
  for (int j = 0; j < 4; j++) {
    const float2 f = __bfloat1622float2(pairs[j]);
    v[2 * j] = f.x;
    v[2 * j + 1] = f.y;
  }
}

// dst[c][k] = src[k][c] for k < rows, 0 for rows ≤ k < paddedK: the transpose of a rows×cols
// matrix whose rows are `pitch` elements apart. A block moves one 64×64 tile through shared
// memory: every thread first issues all its 16-byte reads along c (held in registers, so that
// they are in flight together), then writes 16 consecutive k of one c, a whole 32-byte sector.
// Grid: (paddedK / 64, ceil(cols / 64)), 256 threads.
template <typename T>
__device__ __forceinline__ void pack_transposed(const T* __restrict__ src, long long pitch,
                                                int rows, int cols,
                                                __nv_bfloat16* __restrict__ dst, int paddedK) {
  constexpr int THREADS = 256;
  constexpr int PER_LOAD = 16 / sizeof(T);
  constexpr int LOADS_PER_ROW = TILE / PER_LOAD;
  constexpr int LOADS = TILE * LOADS_PER_ROW / THREADS;
  __shared__ float tile[TILE][TILE + 1];
  const int k0 = blockIdx.x * TILE;
  const int c0 = blockIdx.y * TILE;
  float v[LOADS][PER_LOAD];
#pragma unroll
  for (int i = 0; i < LOADS; i++) {
    const int load = threadIdx.x + i * THREADS;
    load_source(src, pitch, rows, cols, k0 + load / LOADS_PER_ROW,
                c0 + (load % LOADS_PER_ROW) * PER_LOAD, v[i]);
  }
#pragma unroll
  for (int i = 0; i < LOADS; i++) {
    const int load = threadIdx.x + i * THREADS;
#pragma unroll
    for (int j = 0; j < PER_LOAD; j++) {
      tile[load / LOADS_PER_ROW][(load % LOADS_PER_ROW) * PER_LOAD + j] = v[i][j];
    }
  }
  __syncthreads();
  const int c = threadIdx.x % TILE;
  const int k = (threadIdx.x / TILE) * 16;
  if (c0 + c < cols) {
    uint4 lo;
    uint4 hi;
    lo.x = pack_bf16x2(tile[k][c], tile[k + 1][c]);
    lo.y = pack_bf16x2(tile[k + 2][c], tile[k + 3][c]);
    lo.z = pack_bf16x2(tile[k + 4][c], tile[k + 5][c]);
    lo.w = pack_bf16x2(tile[k + 6][c], tile[k + 7][c]);
    hi.x = pack_bf16x2(tile[k + 8][c], tile[k + 9][c]);
    hi.y = pack_bf16x2(tile[k + 10][c], tile[k + 11][c]);
    hi.z = pack_bf16x2(tile[k + 12][c], tile[k + 13][c]);
    hi.w = pack_bf16x2(tile[k + 14][c], tile[k + 15][c]);
    uint4* out = reinterpret_cast<uint4*>(dst + (long long)(c0 + c) * paddedK + k0 + k);
    out[0] = lo;
    out[1] = hi;
  }
}

}  // namespace

extern "C" __global__ void __launch_bounds__(256)
    pack_bf16_transposed(const float* src, long long pitch, int rows, int cols,
                         __nv_bfloat16* dst, int paddedK) {
  pack_transposed(src, pitch, rows, cols, dst, paddedK);
}

// The same from the untransposed bf16 copy (pack_bf16_rows' layout): half the bytes to read, and
// bf16 → float → bf16 is exact.
extern "C" __global__ void __launch_bounds__(256)
    pack_bf16_transposed_from_bf16(const __nv_bfloat16* src, long long pitch, int rows, int cols,
                                   __nv_bfloat16* dst, int paddedK) {
  pack_transposed(src, pitch, rows, cols, dst, paddedK);
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
