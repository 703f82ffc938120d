// Losses over rows of logits.
#include "common.cuh"

using namespace calibra;

// One block per row: nll[r] = logsumexp(logits[r]) − logits[r][targets[r]], the sum of
// exponentials in double as on the CPU backend. Targets were checked on the host.
extern "C" __global__ void cross_entropy_rows(const float* logits, const int* targets, int cols,
                                              double* nll) {
  __shared__ float maxScratch[32];
  __shared__ double sumScratch[32];
  const float* row = logits + (long long)blockIdx.x * cols;
  float max = -INFINITY;
  for (int c = threadIdx.x; c < cols; c += blockDim.x) {
    max = fmaxf(max, row[c]);
  }
  max = block_max(max, maxScratch);
  double sum = 0;
  for (int c = threadIdx.x; c < cols; c += blockDim.x) {
    sum += exp((double)(row[c] - max));
  }
  sum = block_sum(sum, sumScratch);
  if (threadIdx.x == 0) {
    nll[blockIdx.x] = max + log(sum) - row[targets[blockIdx.x]];
  }
}
