// Learned weight fake-quantization (dev.calibra.model.backend.LearnedWeightQuantization): the soft
// and hard forward pass, its straight-through gradients and AdaRound's rounding regulariser.
//
// Every float and double operation is the one the CPU reference (CpuQuantizationOps) performs, in
// its order and precision, so that codes agree except where w/s sits within an exponential's last
// bit of a rounding boundary. nvcc would otherwise fuse a·b + c into one rounding, which Java never
// does; build-ptx.sh reads the flags line below.
// nvcc-flags: -fmad=false
//
// In the backward pass and the regulariser one warp owns one group (groupSize consecutive columns
// of one row): the group's clip range and step are computed once per lane, the elements are
// strided over the lanes, and the group sums are a warp reduction in a fixed order
// (deterministic, no atomics). The forward pass has no group sums; its blocks own tiles of rows ×
// columns instead, so that they can write ŵ's transposed bf16 copy too.
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

// Unclamped code of element i in a group of step s and zero point z: round(w/s) + z, or
// floor(w/s) + h + z with learned rounding.
__device__ __forceinline__ float code(const Quantization& q, float step, float zero, long long i,
                                      bool hard) {
  const float x = q.weight[i] / step;
  if (q.rounding == nullptr) {
    return rintf(x) + zero;
  }
  const float h = hard ? (anchor(x) + q.rounding[i] >= 0.0f ? 1.0f : 0.0f)
                       : rectified_sigmoid(rounding_logit(x, q, i));
  return floorf(x) + h + zero;
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

// The forward pass's tile: a block owns TILE_ROWS rows × TILE_COLS columns, a warp
// TILE_ROWS / TILE_WARPS of its rows, the lanes stride along each row.
constexpr int TILE_ROWS = 32;
constexpr int TILE_COLS = 128;
constexpr int TILE_THREADS = 256;
constexpr int TILE_WARPS = TILE_THREADS / 32;
// A thread writes this many rows of one column of the transposed copy: a whole 32-byte sector.
constexpr int TRANSPOSED_RUN = 16;
static_assert(TILE_COLS * (TILE_ROWS / TRANSPOSED_RUN) == TILE_THREADS,
              "one transposed run per thread");

// Writes tile[TILE_ROWS][TILE_COLS] transposed: transposed[col0 + c][row0 + r], whose rows are
// `pitch` apart. Consecutive threads take consecutive columns, so that their shared-memory
// reads fall in different banks, and each writes TRANSPOSED_RUN consecutive rows of its column.
__device__ __forceinline__ void write_transposed(
    const __nv_bfloat16 (&tile)[TILE_ROWS][TILE_COLS + 2], int row0, int col0, int cols,
    __nv_bfloat16* transposed, int pitch) {
  const int c = threadIdx.x % TILE_COLS;
  const int r = (threadIdx.x / TILE_COLS) * TRANSPOSED_RUN;
  if (col0 + c >= cols) {
    return;
  }
  uint32_t pairs[TRANSPOSED_RUN / 2];
#pragma unroll
  for (int j = 0; j < TRANSPOSED_RUN / 2; j++) {
    const __nv_bfloat162 pair = __halves2bfloat162(tile[r + 2 * j][c], tile[r + 2 * j + 1][c]);
    pairs[j] = *reinterpret_cast<const uint32_t*>(&pair);
  }
  uint4* out = reinterpret_cast<uint4*>(transposed + (long long)(col0 + c) * pitch + row0 + r);
  out[0] = make_uint4(pairs[0], pairs[1], pairs[2], pairs[3]);
  out[1] = make_uint4(pairs[4], pairs[5], pairs[6], pairs[7]);
}

}  // namespace

// out = ŵ; scales and zeros (rows × groups, nullable) receive each group's step and zero point.
// The weights are rewritten every calibration step, and the products of the step read ŵ in
// bf16: with `copy` (nullable) ŵ is also written as X·ŵᵀ reads it, [rows][cols]; with
// `transposed` (nullable) as dY·ŵ reads it, [cols][pitch] with zeros past the last row (pitch:
// rows rounded up to the products' k step, a multiple of TILE_ROWS). So no packing pass runs
// over them. A block owns a tile (grid: row tiles covering `pitch`, or `rows` without the
// transposed copy, × column tiles; TILE_THREADS threads) and writes the transposed copy from
// shared memory, a column's rows at a time: written from the rows directly, a warp's stores
// would scatter over 32 columns. Dynamic shared memory: the grids of the groups a tile holds,
// TILE_ROWS × (up to min(TILE_COLS, TILE_COLS / groupSize + 2)) float2.
// Six blocks per multiprocessor hold it to 40 registers (a few bytes spilled): on the H100 that
// ran 6% faster than the 46 registers and five blocks it would take by itself (lab, 11008×4096).
extern "C" __global__ void __launch_bounds__(TILE_THREADS, 6)
    fake_quantize_weights(QUANTIZATION_PARAMETERS, int hard, float* out, float* scales,
                          float* zeros, __nv_bfloat16* copy, __nv_bfloat16* transposed,
                          int pitch) {
  __shared__ __nv_bfloat16 tile[TILE_ROWS][TILE_COLS + 2];  // + 2: columns in distinct banks
  extern __shared__ float2 grids[];  // [TILE_ROWS][tileGroups]: step and zero point
  const Quantization q(QUANTIZATION_ARGUMENTS);
  const int colTiles = (q.cols + TILE_COLS - 1) / TILE_COLS;
  const int row0 = (int)(blockIdx.x / colTiles) * TILE_ROWS;
  const int col0 = (int)(blockIdx.x % colTiles) * TILE_COLS;
  const int firstGroup = col0 / q.groupSize;
  const int tileGroups = (min(q.cols, col0 + TILE_COLS) - 1) / q.groupSize - firstGroup + 1;

  // Each group's grid by one thread, not by every lane that holds one of its elements: its
  // clip sigmoids are double-precision work, a fifth of the kernel's at g128, half at g32.
  for (int p = threadIdx.x; p < TILE_ROWS * tileGroups; p += TILE_THREADS) {
    const int row = row0 + p / tileGroups;
    const int g = firstGroup + p % tileGroups;
    if (row >= q.rows) {
      continue;
    }
    const long long group = (long long)row * q.groups + g;
    const GroupGrid grid(q, group);
    grids[p] = make_float2(grid.step, grid.zero);
    // A group that two tiles share is reported by the tile holding its first column.
    if (g * q.groupSize >= col0) {
      if (scales != nullptr) {
        scales[group] = grid.step;
      }
      if (zeros != nullptr) {
        zeros[group] = grid.zero;
      }
    }
  }
  __syncthreads();

  constexpr int PER_LANE = TILE_COLS / 32;
  const int lane = threadIdx.x & 31;
  int tileGroup[PER_LANE];  // the group of each of the lane's columns, within the tile's
#pragma unroll
  for (int k = 0; k < PER_LANE; k++) {
    tileGroup[k] = (col0 + lane + 32 * k) / q.groupSize - firstGroup;
  }
  for (int r = threadIdx.x >> 5; r < TILE_ROWS; r += TILE_WARPS) {
    const int row = row0 + r;
#pragma unroll
    for (int k = 0; k < PER_LANE; k++) {
      const int c = lane + 32 * k;
      const int col = col0 + c;
      float value = 0.0f;  // the transposed copy's padding past the last row
      if (row < q.rows && col < q.cols) {
        const float2 grid = grids[r * tileGroups + tileGroup[k]];
        const long long i = (long long)row * q.cols + col;
        const float clampedCode =
            fmaxf(0.0f, fminf(q.maxCode, code(q, grid.x, grid.y, i, hard != 0)));
        value = grid.x * (clampedCode - grid.y);
        out[i] = value;
        if (copy != nullptr) {
          copy[i] = __float2bfloat16_rn(value);
        }
      }
      if (transposed != nullptr) {
        tile[r][c] = __float2bfloat16_rn(value);
      }
    }
  }
  if (transposed != nullptr) {
    __syncthreads();
    write_transposed(tile, row0, col0, q.cols, transposed, pitch);
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
    const float c = code(q, grid.step, grid.zero, i, false);
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
