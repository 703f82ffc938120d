#!/usr/bin/env python3
"""PyTorch reference numbers for bench entry `cuda`, taken on the GPU it runs on.

    torch_reference.py WORKLOAD.json OUT.json

Times torch.matmul on bf16 tensors (cuBLAS) for every GEMM of the workload, and one training step
of the workload's window of LLaMA decoder blocks: fp32 parameters, bf16 autocast, SDPA causal
attention, forward and backward with gradients for the input and every parameter (what
DecoderBlock computes). Times are medians of CUDA-event timings after warm-up.
"""
import json
import statistics
import sys

import torch
import torch.nn.functional as F


def median_ms(body, warmup, rounds, calls_per_round):
    for _ in range(warmup):
        body()
    torch.cuda.synchronize()
    times = []
    for _ in range(rounds):
        start = torch.cuda.Event(enable_timing=True)
        end = torch.cuda.Event(enable_timing=True)
        start.record()
        for _ in range(calls_per_round):
            body()
        end.record()
        end.synchronize()
        times.append(start.elapsed_time(end) / calls_per_round)
    return statistics.median(times)


def gemm(shape):
    m, n, k = shape["m"], shape["n"], shape["k"]
    options = dict(device="cuda", dtype=torch.bfloat16)
    a = torch.randn(k, m, **options).t() if shape["transposeA"] else torch.randn(m, k, **options)
    b = torch.randn(n, k, **options).t() if shape["transposeB"] else torch.randn(k, n, **options)
    ms = median_ms(lambda: torch.matmul(a, b), warmup=5, rounds=5, calls_per_round=10)
    return {"ms": ms, "tflops": 2.0 * m * n * k / ms / 1e9}


def rms_norm(x, weight, eps):
    # Hugging Face's LlamaRMSNorm: statistics in fp32.
    xf = x.float()
    return weight * (xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + eps)).to(x.dtype)


def rotate(x, cos, sin):
    # In x's dtype (bf16 under autocast), so that attention gets bf16 operands.
    half = x.shape[-1] // 2
    return x * cos.to(x.dtype) + torch.cat((-x[..., half:], x[..., :half]), dim=-1) * sin.to(x.dtype)


class DecoderBlock(torch.nn.Module):
    def __init__(self, w):
        super().__init__()
        hidden, heads, kv, d = w["hidden"], w["heads"], w["kvHeads"], w["headDim"]
        self.w = w
        self.q = torch.nn.Linear(hidden, heads * d, bias=False)
        self.k = torch.nn.Linear(hidden, kv * d, bias=False)
        self.v = torch.nn.Linear(hidden, kv * d, bias=False)
        self.o = torch.nn.Linear(heads * d, hidden, bias=False)
        self.gate = torch.nn.Linear(hidden, w["intermediate"], bias=False)
        self.up = torch.nn.Linear(hidden, w["intermediate"], bias=False)
        self.down = torch.nn.Linear(w["intermediate"], hidden, bias=False)
        self.norm1 = torch.nn.Parameter(torch.ones(hidden))
        self.norm2 = torch.nn.Parameter(torch.ones(hidden))

    def forward(self, x, cos, sin):
        w = self.w
        b, t, _ = x.shape
        heads, kv, d = w["heads"], w["kvHeads"], w["headDim"]
        h = rms_norm(x, self.norm1, w["rmsNormEps"])
        q = rotate(self.q(h).view(b, t, heads, d).transpose(1, 2), cos, sin)
        k = rotate(self.k(h).view(b, t, kv, d).transpose(1, 2), cos, sin)
        v = self.v(h).view(b, t, kv, d).transpose(1, 2)
        a = F.scaled_dot_product_attention(q, k, v, is_causal=True, enable_gqa=kv != heads)
        x = x + self.o(a.transpose(1, 2).reshape(b, t, heads * d))
        h = rms_norm(x, self.norm2, w["rmsNormEps"])
        return x + self.down(F.silu(self.gate(h)) * self.up(h))


def window_step(w):
    torch.manual_seed(0)
    blocks = [DecoderBlock(w).cuda() for _ in range(w["blocks"])]
    d, t = w["headDim"], w["seqLen"]
    inverse = 1.0 / (w["ropeTheta"] ** (torch.arange(0, d, 2, device="cuda").float() / d))
    angles = torch.outer(torch.arange(t, device="cuda").float(), inverse)
    cos = torch.cat((angles, angles), dim=-1).cos()
    sin = torch.cat((angles, angles), dim=-1).sin()
    x = torch.randn(w["batch"], t, w["hidden"], device="cuda", requires_grad=True)
    dy = torch.randn_like(x) * 1e-2
    parameters = [p for block in blocks for p in block.parameters()]

    def step():
        x.grad = None
        for p in parameters:
            p.grad = None
        with torch.autocast("cuda", dtype=torch.bfloat16):
            y = x
            for block in blocks:
                y = block(y, cos, sin)
        y.backward(dy)

    ms = median_ms(step, warmup=3, rounds=10, calls_per_round=1)
    return {"ms": ms, "tokens": w["batch"] * t,
            "setup": "fp32 parameters, torch.autocast(bfloat16), F.scaled_dot_product_attention(is_causal=True), "
                     "gradients for the input and every parameter"}


def main():
    workload = json.load(open(sys.argv[1]))
    torch.backends.cuda.matmul.allow_tf32 = False
    result = {
        "device": torch.cuda.get_device_name(),
        "torch": torch.__version__,
        "gemm": {shape["name"]: gemm(shape) for shape in workload["gemm"]},
    }
    for name, g in result["gemm"].items():
        print(f"torch.matmul bf16 {name:16s} {g['ms']:8.3f} ms {g['tflops']:7.1f} TFLOP/s", flush=True)
    result["window"] = window_step(workload["window"])
    print(f"torch window step {result['window']['ms']:.2f} ms", flush=True)
    json.dump(result, open(sys.argv[2], "w"), indent=2)


if __name__ == "__main__":
    main()
