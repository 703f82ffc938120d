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

// out = silu(gate) ⊙ up.
extern "C" __global__ void swiglu_forward(const float* gate, const float* up, float* out,
                                          long long n) {
  for (long long i = first_index(); i < n; i += grid_stride()) {
    const float g = gate[i];
    out[i] = g * sigmoid(g) * up[i];
  }
}

// d/dgate of silu(g)·u = u·σ(g)·(1 + g·(1 − σ(g))); d/dup = silu(g). Both overwritten.
extern "C" __global__ void swiglu_backward(const float* dOut, const float* gate, const float* up,
                                           float* dGate, float* dUp, long long n) {
  for (long long i = first_index(); i < n; i += grid_stride()) {
    const float d = dOut[i];
    const float g = gate[i];
    const float s = sigmoid(g);
    dUp[i] = d * g * s;
    dGate[i] = d * up[i] * s * (1.0f + g * (1.0f - s));
  }
}

// Rotates pairs (i, i + headDim/2) of every head in place by the angle of the row's position
// (row % seqLen); direction −1 rotates back, which is the backward pass.
extern "C" __global__ void rotary(float* x, long long rows, int cols, int headDim, int seqLen,
                                  const float* cosines, const float* sines, float direction) {
  const int half = headDim / 2;
  const int pairsPerRow = cols / 2;
  const long long pairs = rows * pairsPerRow;
  for (long long p = first_index(); p < pairs; p += grid_stride()) {
    const long long row = p / pairsPerRow;
    const int pair = (int)(p % pairsPerRow);
    const int head = pair / half;
    const int i = pair % half;
    const int table = (int)(row % seqLen) * half + i;
    const float c = cosines[table];
    const float s = direction * sines[table];
    float* base = x + row * cols + head * headDim;
    const float first = base[i];
    const float second = base[i + half];
    base[i] = first * c - second * s;
    base[i + half] = second * c + first * s;
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
