// Elementwise ops of the Backend: add, bias rows, SwiGLU forward/backward, rotary embeddings,
// the embedding lookup, fill and scale. fp32 throughout, memory-bound: each value is read and
// written once.
#include "common.cuh"

using namespace calibra;

// out = a + b. Tensors start at pool allocations (256-byte aligned), so the float4 body is aligned.
extern "C" __global__ void add_f32(const float* a, const float* b, float* out, long long n) {
  const long long vectors = n / 4;
  const float4* a4 = reinterpret_cast<const float4*>(a);
  const float4* b4 = reinterpret_cast<const float4*>(b);
  float4* out4 = reinterpret_cast<float4*>(out);
  for (long long i = first_index(); i < vectors; i += grid_stride()) {
    float4 x = a4[i];
    float4 y = b4[i];
    out4[i] = make_float4(x.x + y.x, x.y + y.y, x.z + y.z, x.w + y.w);
  }
  for (long long i = vectors * 4 + first_index(); i < n; i += grid_stride()) {
    out[i] = a[i] + b[i];
  }
}

// x[r][c] += bias[c].
extern "C" __global__ void add_row_vector(float* x, const float* bias, long long rows, int cols) {
  const long long n = rows * cols;
  for (long long i = first_index(); i < n; i += grid_stride()) {
    x[i] += bias[i % cols];
  }
}

// The logistic function as the CPU backend computes it, up to float rounding of the exponential.
__device__ __forceinline__ float sigmoid(float x) {
  return 1.0f / (1.0f + expf(-x));
}

// Stores four values at index i (a multiple of 4) of an fp32 tensor and, where `packed` is not
// null, of its bf16 copy.
__device__ __forceinline__ void store4(float* out, __nv_bfloat16* packed, long long i, float a,
                                       float b, float c, float d) {
  *reinterpret_cast<float4*>(out + i) = make_float4(a, b, c, d);
  if (packed != nullptr) {
    *reinterpret_cast<uint2*>(packed + i) = make_uint2(pack_bf16x2(a, b), pack_bf16x2(c, d));
  }
}

__device__ __forceinline__ void store1(float* out, __nv_bfloat16* packed, long long i, float v) {
  out[i] = v;
  if (packed != nullptr) {
    packed[i] = __float2bfloat16_rn(v);
  }
}

__device__ __forceinline__ float swiglu(float g, float u) {
  return g * sigmoid(g) * u;
}

// out = silu(gate) ⊙ up; with `packed` also out in bf16 (the down projection's operand).
extern "C" __global__ void swiglu_forward(const float* gate, const float* up, float* out,
                                          long long n, __nv_bfloat16* packed) {
  const long long vectors = n / 4;
  for (long long i = first_index(); i < vectors; i += grid_stride()) {
    const float4 g = reinterpret_cast<const float4*>(gate)[i];
    const float4 u = reinterpret_cast<const float4*>(up)[i];
    store4(out, packed, 4 * i, swiglu(g.x, u.x), swiglu(g.y, u.y), swiglu(g.z, u.z),
           swiglu(g.w, u.w));
  }
  for (long long i = vectors * 4 + first_index(); i < n; i += grid_stride()) {
    store1(out, packed, i, swiglu(gate[i], up[i]));
  }
}

// d/dgate of silu(g)·u = u·σ(g)·(1 + g·(1 − σ(g))); d/dup = silu(g).
__device__ __forceinline__ void swiglu_gradients(float d, float g, float u, float& dGate,
                                                 float& dUp) {
  const float s = sigmoid(g);
  dUp = d * g * s;
  dGate = d * u * s * (1.0f + g * (1.0f - s));
}

// Both gradients overwritten; with `packedGate` and `packedUp` also in bf16 (the operands of the
// gate and up projections' backward products).
extern "C" __global__ void swiglu_backward(const float* dOut, const float* gate, const float* up,
                                           float* dGate, float* dUp, long long n,
                                           __nv_bfloat16* packedGate, __nv_bfloat16* packedUp) {
  const long long vectors = n / 4;
  for (long long i = first_index(); i < vectors; i += grid_stride()) {
    const float4 d = reinterpret_cast<const float4*>(dOut)[i];
    const float4 g = reinterpret_cast<const float4*>(gate)[i];
    const float4 u = reinterpret_cast<const float4*>(up)[i];
    float4 dg;
    float4 du;
    swiglu_gradients(d.x, g.x, u.x, dg.x, du.x);
    swiglu_gradients(d.y, g.y, u.y, dg.y, du.y);
    swiglu_gradients(d.z, g.z, u.z, dg.z, du.z);
    swiglu_gradients(d.w, g.w, u.w, dg.w, du.w);
    store4(dGate, packedGate, 4 * i, dg.x, dg.y, dg.z, dg.w);
    store4(dUp, packedUp, 4 * i, du.x, du.y, du.z, du.w);
  }
  for (long long i = vectors * 4 + first_index(); i < n; i += grid_stride()) {
    float dg;
    float du;
    swiglu_gradients(dOut[i], gate[i], up[i], dg, du);
    store1(dGate, packedGate, i, dg);
    store1(dUp, packedUp, i, du);
  }
}

// Rotates pairs (i, i + headDim/2) of every head in place by the angle of the row's position
// (row % seqLen); direction −1 rotates back, which is the backward pass. With `copy`, the result
// also goes there in bf16 (the products' operand). Four pairs per thread (16-byte accesses) when
// headDim/2 is a multiple of 4, one otherwise.
extern "C" __global__ void rotary(float* x, long long rows, int cols, int headDim, int seqLen,
                                  const float* cosines, const float* sines, float direction,
                                  __nv_bfloat16* copy) {
  const int half = headDim / 2;
  const int width = half % 4 == 0 ? 4 : 1;
  const int groupsPerRow = cols / 2 / width;
  const long long groups = rows * groupsPerRow;
  for (long long p = first_index(); p < groups; p += grid_stride()) {
    const long long row = p / groupsPerRow;
    const int pair = (int)(p % groupsPerRow) * width;
    const int head = pair / half;
    const int i = pair % half;
    const int table = (int)(row % seqLen) * half + i;
    const long long first = row * cols + head * headDim + i;
    const long long second = first + half;
    if (width == 4) {
      const float4 c = *reinterpret_cast<const float4*>(cosines + table);
      const float4 s = *reinterpret_cast<const float4*>(sines + table);
      const float4 a = *reinterpret_cast<const float4*>(x + first);
      const float4 b = *reinterpret_cast<const float4*>(x + second);
      const float sx = direction * s.x, sy = direction * s.y, sz = direction * s.z,
                  sw = direction * s.w;
      store4(x, copy, first, a.x * c.x - b.x * sx, a.y * c.y - b.y * sy, a.z * c.z - b.z * sz,
             a.w * c.w - b.w * sw);
      store4(x, copy, second, b.x * c.x + a.x * sx, b.y * c.y + a.y * sy, b.z * c.z + a.z * sz,
             b.w * c.w + a.w * sw);
    } else {
      const float c = cosines[table];
      const float s = direction * sines[table];
      const float a = x[first];
      const float b = x[second];
      store1(x, copy, first, a * c - b * s);
      store1(x, copy, second, b * c + a * s);
    }
  }
}

// out[r] = table[ids[r]]; ids were checked against the vocabulary on the host.
extern "C" __global__ void embed_rows(const float* table, const int* ids, float* out,
                                      long long rows, int cols) {
  const long long n = rows * cols;
  for (long long i = first_index(); i < n; i += grid_stride()) {
    const long long row = i / cols;
    const int col = (int)(i % cols);
    out[i] = table[(long long)ids[row] * cols + col];
  }
}

// x = value everywhere (fill with 0 is a lazy clear on the Java side and never gets here).
extern "C" __global__ void fill_f32(float* x, long long n, float value) {
  for (long long i = first_index(); i < n; i += grid_stride()) {
    x[i] = value;
  }
}

// x = alpha · x.
extern "C" __global__ void scale_f32(float* x, long long n, float alpha) {
  for (long long i = first_index(); i < n; i += grid_stride()) {
    x[i] *= alpha;
  }
}
