// Group scaling for end-to-end step-size tuning (Backend.scaleGroups): each group of a quantized
// layer's weight is scaled by exp of its own learned factor, which changes the group's step and
// keeps its integer codes. The factor is exp in double rounded to float and the product a single
// float multiply, as on the CPU (CpuQuantizationOps), so the weights are bit-identical; no
// multiply-add is involved, so the default flags are fine.
#include "common.cuh"

using namespace calibra;

// out[r][c] = w[r][c] · exp(logScale[r][c / groupSize]), one thread per element (grid-stride).
extern "C" __global__ void scale_groups(const float* w, const float* logScale, float* out,
                                        int rows, int cols, int groupSize, int groups) {
  const long long n = (long long)rows * cols;
  for (long long i = first_index(); i < n; i += grid_stride()) {
    const long long r = i / cols;
    const int c = (int)(i - r * cols);
    const float factor = (float)exp((double)logScale[r * groups + c / groupSize]);
    out[i] = w[i] * factor;
  }
}

// dLogScale[r][g] += Σ over the group of dOut · out: one warp per group, products summed in
// double (each lane in column order, then a fixed warp reduction) and rounded once to float.
extern "C" __global__ void scale_groups_backward(const float* dOut, const float* out,
                                                 float* dLogScale, int rows, int cols,
                                                 int groupSize, int groups) {
  const long long warp = ((long long)blockIdx.x * blockDim.x + threadIdx.x) / 32;
  const int lane = threadIdx.x & 31;
  if (warp >= (long long)rows * groups) {
    return;
  }
  const long long r = warp / groups;
  const int g = (int)(warp - r * groups);
  const int first = g * groupSize;
  const int last = min(cols, first + groupSize);
  double sum = 0;
  for (int c = first + lane; c < last; c += 32) {
    sum += (double)dOut[r * cols + c] * (double)out[r * cols + c];
  }
  sum = warp_sum(sum);
  if (lane == 0) {
    dLogScale[warp] += (float)sum;
  }
}
