#!/usr/bin/env python3
"""PyTorch reference for bench entry `vq-fit`: weighted k-means codebook fitting of one layer.

    vq_torch_reference.py OUT.json [ROWS COLS DIM INDEX_BITS ITERATIONS]

The straightforward PyTorch implementation of what CodebookFitter's Lloyd iterations compute on
the GPU, same problem (default 4096 x 11008, sub-vectors of 8, 2^16 codewords, 20 iterations):
every sub-vector x of column j (columns j*d ... j*d+d-1) is scored against every codeword c by
sum_t h[j*d+t] * (x_t - c_t)^2, i.e. torch.cdist on both scaled by sqrt(h) of that column, then
argmin; the centroid update sums (h*x) and h per codeword with index_add_ and divides. cdist of
all 5.6 million sub-vectors against 65536 codewords would be 1.5 TB, so the columns go through
in batches (each batch's distance matrix is BATCH x rows x entries floats). Random uniform
weights and channel weights in [0.5, 1.5], as the Java side uses; fp32 throughout (cdist's
matrix-product path; PyTorch's default keeps TF32 off for it). The first assignment is a
warm-up (cuBLAS start-up) and is not timed; then ITERATIONS rounds of update + assignment are.
"""
import json
import sys
import time

import torch

BATCH_COLUMNS = 8


def main():
    out = sys.argv[1]
    rows, cols, dim, bits, iterations = (int(a) for a in sys.argv[2:7]) if len(sys.argv) > 2 \
        else (4096, 11008, 8, 16, 20)
    entries = 1 << bits
    per_row = cols // dim
    device = "cuda"
    generator = torch.Generator(device=device).manual_seed(0)
    weight = torch.rand(rows, cols, device=device, generator=generator) * 2 - 1
    h = torch.rand(cols, device=device, generator=generator) + 0.5
    x = weight.view(rows, per_row, dim)
    hv = h.view(per_row, dim)
    flat_x = x.reshape(-1, dim)
    flat_h = hv.unsqueeze(0).expand(rows, per_row, dim).reshape(-1, dim)
    chosen = torch.randperm(rows * per_row, device=device, generator=generator)[:entries]
    codebook = flat_x[chosen].clone()

    def assign(book):
        assignment = torch.empty(rows, per_row, dtype=torch.long, device=device)
        for j0 in range(0, per_row, BATCH_COLUMNS):
            j1 = min(per_row, j0 + BATCH_COLUMNS)
            s = hv[j0:j1].sqrt().unsqueeze(1)                      # B x 1 x d
            xs = x[:, j0:j1, :].permute(1, 0, 2) * s               # B x rows x d
            cs = book.unsqueeze(0) * s                             # B x entries x d
            assignment[:, j0:j1] = torch.cdist(xs, cs).argmin(dim=2).t()
        return assignment

    def update(assignment, book):
        index = assignment.reshape(-1)
        numerator = torch.zeros(entries, dim, device=device).index_add_(0, index, flat_h * flat_x)
        denominator = torch.zeros(entries, dim, device=device).index_add_(0, index, flat_h)
        return torch.where(denominator > 0, numerator / denominator, book)

    assignment = assign(codebook)
    torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(iterations):
        codebook = update(assignment, codebook)
        assignment = assign(codebook)
    torch.cuda.synchronize()
    seconds = time.perf_counter() - start
    diff = flat_x - codebook[assignment.reshape(-1)]
    objective = float((flat_h * diff * diff).sum(dtype=torch.float64))
    result = {
        "torch": torch.__version__, "device": torch.cuda.get_device_name(),
        "rows": rows, "cols": cols, "dim": dim, "indexBits": bits, "iterations": iterations,
        "seconds": seconds, "secondsPerIteration": seconds / iterations,
        "finalObjective": objective, "batchColumns": BATCH_COLUMNS,
    }
    print(json.dumps(result, indent=2))
    with open(out, "w") as f:
        json.dump(result, f, indent=2)


if __name__ == "__main__":
    main()
