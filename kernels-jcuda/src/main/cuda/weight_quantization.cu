// Learned weight fake-quantization (dev.calibra.model.backend.LearnedWeightQuantization): the soft
// and hard forward pass, its straight-through gradients and AdaRound's rounding regulariser.
//
// Every float and double operation is the one the CPU reference (CpuQuantizationOps) performs, in
// its order and precision, so that codes agree except where w/s sits within an exponential's last
// bit of a rounding boundary. nvcc would otherwise fuse a·b + c into one rounding, which Java never
// does; build-ptx.sh reads the flags line below.
// nvcc-flags: -fmad=false
//
// One warp owns one group (groupSize consecutive columns of one row): the group's clip range and
// step are computed once per lane, the elements are strided over the lanes, and the group sums of
// the backward pass are a warp reduction in a fixed order (deterministic, no atomics).
#include "common.cuh"

using namespace calibra;

namespace {

// The rectified sigmoid h(v) = clamp(1.2·σ(v) − 0.1, 0, 1) of AdaRound, as floats.
constexpr float STRETCH = 1.2f;
constexpr float SHIFT = -0.1f;
constexpr float MIN_STEP = 1e-9f;

// σ(x) rounded from double, as CpuQuantizationOps.sigmoid.
__device__ __forceinline__ float sigmoid(float x) {
  return (float)(1.0 / (1.0 + exp((double)(-x))));
}

__device__ __forceinline__ float rectified_sigmoid(float v) {
  return fmaxf(0.0f, fminf(1.0f, STRETCH * sigmoid(v) + SHIFT));
}

// dh/dv, 0 where the clamp is active.
__device__ __forceinline__ float rectified_sigmoid_slope(float v) {
  const float sig = sigmoid(v);
  const float h = STRETCH * sig + SHIFT;
  return h <= 0.0f || h >= 1.0f ? 0.0f : STRETCH * sig * (1.0f - sig);
}

// logit((frac(x) + 0.1)/1.2) in double, the float constants widened as Java widens them.
__device__ __forceinline__ float anchor(float x) {
  const double p = (((double)x - floor((double)x)) - (double)SHIFT) / (double)STRETCH;
  return (float)log(p / (1.0 - p));
}

// The tensors of one LearnedWeightQuantization; the optional ones may be null. Every kernel takes
// them as the leading parameters QUANTIZATION_PARAMETERS, in this order (WeightFakeQuantization
// passes them so).
struct Quantization {
  const float* weight;
  const float* groupMin;
  const float* groupMax;
  const float* clipLower;
  const float* clipUpper;
  const float* rounding;
  float temperature;
  int rows, cols, groupSize, groups;
  float maxCode;

  __device__ Quantization(const float* weight, const float* groupMin, const float* groupMax,
                          const float* clipLower, const float* clipUpper, const float* rounding,
                          float temperature, int rows, int cols, int groupSize, int bits)
      : weight(weight), groupMin(groupMin), groupMax(groupMax), clipLower(clipLower),
        clipUpper(clipUpper), rounding(rounding), temperature(temperature), rows(rows), cols(cols),
        groupSize(groupSize), groups((cols + groupSize - 1) / groupSize),
        maxCode((float)((1 << bits) - 1)) {}
};

#define QUANTIZATION_PARAMETERS                                                              \
  const float *weight, const float *groupMin, const float *groupMax, const float *clipLower, \
      const float *clipUpper, const float *rounding, float temperature, int rows, int cols,  \
      int groupSize, int bits
#define QUANTIZATION_ARGUMENTS                                                               \
  weight, groupMin, groupMax, clipLower, clipUpper, rounding, temperature, rows, cols, groupSize, \
      bits

// The clipped range, step and zero point of one group (CpuQuantizationOps.GroupGrid).
struct GroupGrid {
  float lower, rawStep, step, zero;

  __device__ GroupGrid(const Quantization& q, long long index) {
    lower = q.clipLower == nullptr ? q.groupMin[index]
                                   : sigmoid(q.clipLower[index]) * q.groupMin[index];
    const float upper = q.clipUpper == nullptr ? q.groupMax[index]
                                               : sigmoid(q.clipUpper[index]) * q.groupMax[index];
    rawStep = (upper - lower) / q.maxCode;
    step = fmaxf(rawStep, MIN_STEP);
    zero = rintf(-lower / step);
  }
};

// The soft rounding logit (a + R)/T of element i with x = w/s.
__device__ __forceinline__ float rounding_logit(float x, const Quantization& q, long long i) {
  return (anchor(x) + q.rounding[i]) / q.temperature;
}

// Unclamped code of element i: round(w/s) + z, or floor(w/s) + h + z with learned rounding.
__device__ __forceinline__ float code(const Quantization& q, const GroupGrid& grid, long long i,
                                      bool hard) {
  const float x = q.weight[i] / grid.step;
  if (q.rounding == nullptr) {
    return rintf(x) + grid.zero;
  }
  const float h = hard ? (anchor(x) + q.rounding[i] >= 0.0f ? 1.0f : 0.0f)
                       : rectified_sigmoid(rounding_logit(x, q, i));
  return floorf(x) + h + grid.zero;
}

// The group a warp owns and the index range of its elements.
struct GroupSpan {
  long long group;  // row · groups + g
  long long first;  // index of the group's first element
  int count;

  __device__ GroupSpan(const Quantization& q, long long warp) {
    group = warp;
    const int row = (int)(warp / q.groups);
    const int g = (int)(warp % q.groups);
    first = (long long)row * q.cols + (long long)g * q.groupSize;
    count = min(q.cols, (g + 1) * q.groupSize) - g * q.groupSize;
  }
};

__device__ __forceinline__ long long warp_index() {
  return ((long long)blockIdx.x * blockDim.x + threadIdx.x) / 32;
}

}  // namespace

// out = ŵ; scales and zeros (rows × groups, nullable) receive each group's step and zero point.
// With `copy` (nullable), ŵ is also written in bf16, [rows][cols] as the products read it: the
// weights are rewritten every calibration step, and this spares a packing pass over them.
extern "C" __global__ void fake_quantize_weights(QUANTIZATION_PARAMETERS, int hard, float* out,
                                                 float* scales, float* zeros,
                                                 __nv_bfloat16* copy) {
  const Quantization q(QUANTIZATION_ARGUMENTS);
  const long long warp = warp_index();
  const int lane = threadIdx.x & 31;
  if (warp >= (long long)q.rows * q.groups) {
    return;
  }
  const GroupSpan span(q, warp);
  const GroupGrid grid(q, span.group);
  if (lane == 0) {
    if (scales != nullptr) {
      scales[span.group] = grid.step;
    }
    if (zeros != nullptr) {
      zeros[span.group] = grid.zero;
    }
  }
  for (int e = lane; e < span.count; e += 32) {
    const long long i = span.first + e;
    const float c = fmaxf(0.0f, fminf(q.maxCode, code(q, grid, i, hard != 0)));
    const float value = grid.step * (c - grid.zero);
    out[i] = value;
    if (copy != nullptr) {
      copy[i] = __float2bfloat16_rn(value);
    }
  }
}

// Straight-through gradients of the soft forward pass (see CpuQuantizationOps for the algebra):
// dRounding is overwritten, the clip-logit gradients accumulated; each may be null. Per element
// the terms are floats, summed per group in double as on the CPU.
extern "C" __global__ void fake_quantize_weights_backward(QUANTIZATION_PARAMETERS,
                                                          const float* dOut, float* dRounding,
                                                          float* dClipLower, float* dClipUpper) {
  const Quantization q(QUANTIZATION_ARGUMENTS);
  const long long warp = warp_index();
  const int lane = threadIdx.x & 31;
  if (warp >= (long long)q.rows * q.groups) {
    return;
  }
  const GroupSpan span(q, warp);
  const GroupGrid grid(q, span.group);
  double dStep = 0;
  double dLowerDirect = 0;
  for (int e = lane; e < span.count; e += 32) {
    const long long i = span.first + e;
    const float grad = dOut[i];
    const float scaled = q.weight[i] / grid.step;
    const float c = code(q, grid, i, false);
    float dV = 0.0f;
    if (c < 0.0f || c > q.maxCode) {
      const float clamped = c < 0.0f ? 0.0f : q.maxCode;
      dStep += grad * (clamped - grid.zero - grid.lower / grid.step);
      dLowerDirect += grad;
    } else {
      dStep += grad * (c - grid.zero - scaled);
      if (q.rounding != nullptr) {
        dV = grad * grid.step * rectified_sigmoid_slope(rounding_logit(scaled, q, i)) /
             q.temperature;
      }
    }
    if (dRounding != nullptr) {
      dRounding[i] = dV;
    }
  }
  dStep = warp_sum(dStep);
  dLowerDirect = warp_sum(dLowerDirect);
  if (lane != 0) {
    return;
  }
  // A collapsed range sits on MIN_STEP, where s no longer depends on u and l.
  const double dStepToRange = grid.rawStep < MIN_STEP ? 0.0 : dStep / q.maxCode;
  if (dClipUpper != nullptr && q.clipUpper != nullptr) {
    const float sig = sigmoid(q.clipUpper[span.group]);
    dClipUpper[span.group] += (float)(dStepToRange * sig * (1.0f - sig) * q.groupMax[span.group]);
  }
  if (dClipLower != nullptr && q.clipLower != nullptr) {
    const float sig = sigmoid(q.clipLower[span.group]);
    dClipLower[span.group] +=
        (float)((dLowerDirect - dStepToRange) * sig * (1.0f - sig) * q.groupMin[span.group]);
  }
}

// Σ (1 − |2h − 1|^β) over the soft rounding offsets, with regularizerWeight · its gradient added
// into dRounding. Each block writes the sum of its warps' groups, in warp order, to partial[block];
// sum_in_order adds the partial sums up.
extern "C" __global__ void rounding_regularizer(QUANTIZATION_PARAMETERS, float beta,
                                                float regularizerWeight, float* dRounding,
                                                double* partial) {
  __shared__ double warpSums[32];
  const Quantization q(QUANTIZATION_ARGUMENTS);
  const long long warp = warp_index();
  const int lane = threadIdx.x & 31;
  double sum = 0;
  if (warp < (long long)q.rows * q.groups) {
    const GroupSpan span(q, warp);
    const GroupGrid grid(q, span.group);
    for (int e = lane; e < span.count; e += 32) {
      const long long i = span.first + e;
      const float v = rounding_logit(q.weight[i] / grid.step, q, i);
      const float t = 2.0f * rectified_sigmoid(v) - 1.0f;
      const float magnitude = fabsf(t);
      sum += 1.0 - pow((double)magnitude, (double)beta);
      const float slope = rectified_sigmoid_slope(v);
      if (slope != 0.0f && magnitude > 0.0f) {
        const float sign = t > 0.0f ? 1.0f : -1.0f;
        const double d = (double)(-beta) * pow((double)magnitude, (double)(beta - 1.0f)) * sign *
                         2 * slope / q.temperature;
        dRounding[i] += (float)(regularizerWeight * d);
      }
    }
  }
  sum = warp_sum(sum);
  if (lane == 0) {
    warpSums[threadIdx.x >> 5] = sum;
  }
  __syncthreads();
  if (threadIdx.x == 0) {
    double total = 0;
    for (int w = 0; w < (int)(blockDim.x >> 5); w++) {
      total += warpSums[w];
    }
    partial[blockIdx.x] = total;
  }
}
