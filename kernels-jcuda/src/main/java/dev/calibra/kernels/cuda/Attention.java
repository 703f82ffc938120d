package dev.calibra.kernels.cuda;

import dev.calibra.model.backend.AttentionShape;

/**
 * Causal attention forward and backward. bf16 precision with heads up to 128 wide runs the
 * tensor-core kernels (attention_tensor_cores.cu) instantiated for the head width rounded up to
 * 16, 32, 64 or 128, on operands first packed to bf16 per head; fp32 precision, and wider heads,
 * run the fp32 kernels (attention_exact.cu). Neither stores a T×T matrix.
 */
final class Attention {

  /** The widest head the fp32 kernels take: 8 values per lane of a warp. */
  static final int MAX_HEAD_DIM = 256;
  private static final int TENSOR_CORE_MAX_HEAD_DIM = 128;
  /** Rows of a staged tile, and keys per block of the dK/dV kernel. */
  private static final int KEY_ROWS = 64;
  /** Queries per block of the forward and dQ kernels. */
  private static final int QUERY_ROWS = 128;
  /** Threads per block of the fp32 kernels: 4 warps, one (row, head) each. */
  private static final int THREADS = 128;
  private static final int WARPS_PER_BLOCK = THREADS / 32;

  private final CudaBackend backend;

  Attention(CudaBackend backend) {
    this.backend = backend;
  }

  void forward(CudaTensor q, CudaTensor k, CudaTensor v, AttentionShape shape, CudaTensor out,
      CudaTensor logSumExp) {
    requireSupported(shape);
    int padded = tensorCoreWidth(shape);
    if (padded > 0) {
      DeviceBlock qb = packHeads(q, shape.numHeads(), shape, padded);
      DeviceBlock kb = packHeads(k, shape.numKeyValueHeads(), shape, padded);
      DeviceBlock vb = packHeads(v, shape.numKeyValueHeads(), shape, padded);
      // The output projection's operand, written beside the output.
      DeviceBlock outCopy = backend.matmulKernels().rowsCopyTarget(out);
      backend.kernel("attention_forward_bf16_d" + padded)
          .grid(tiles(shape, QUERY_ROWS), shape.numHeads(), shape.batch()).block(256, 1, 1)
          .sharedBytes(tileBytes(padded) * 6)
          .arg(qb).arg(kb).arg(vb).output(out).argOrNull(outCopy).output(logSumExp)
          .struct(fields(shape)).arg(shape.scale()).run();
      backend.matmulKernels().adoptRowsCopy(out, outCopy);
    } else {
      backend.kernel("attention_forward_f32").grid(warpBlocks((long) shape.tokens() * shape.numHeads()), 1, 1)
          .block(THREADS, 1, 1)
          .input(q).input(k).input(v).output(out).output(logSumExp).struct(fields(shape))
          .arg(shape.scale()).run();
    }
  }

  void backward(CudaTensor dOut, CudaTensor q, CudaTensor k, CudaTensor v, CudaTensor out,
      CudaTensor logSumExp, AttentionShape shape, CudaTensor dQ, CudaTensor dK, CudaTensor dV) {
    requireSupported(shape);
    long rows = (long) shape.tokens() * shape.numHeads();
    // rowDot = Σ dOut ⊙ out per (token, head), which every gradient kernel subtracts.
    DeviceBlock rowDot = backend.scratch(rows * Float.BYTES);
    backend.kernel("attention_row_dot").grid(warpBlocks(rows), 1, 1).block(THREADS, 1, 1)
        .input(dOut).input(out).arg((long) shape.tokens()).arg(shape.numHeads()).arg(shape.headDim())
        .arg(rowDot).run();
    int padded = tensorCoreWidth(shape);
    if (padded > 0) {
      DeviceBlock gb = packHeads(dOut, shape.numHeads(), shape, padded);
      DeviceBlock qb = packHeads(q, shape.numHeads(), shape, padded);
      DeviceBlock kb = packHeads(k, shape.numKeyValueHeads(), shape, padded);
      DeviceBlock vb = packHeads(v, shape.numKeyValueHeads(), shape, padded);
      backend.kernel("attention_backward_dq_bf16_d" + padded)
          .grid(tiles(shape, QUERY_ROWS), shape.numHeads(), shape.batch()).block(256, 1, 1)
          .sharedBytes(tileBytes(padded) * 8)
          .arg(gb).arg(qb).arg(kb).arg(vb).input(logSumExp).arg(rowDot).output(dQ)
          .struct(fields(shape)).arg(shape.scale()).run();
      // dV goes to the value projection's backward products as it is (dQ and dK are rotated
      // first): written in bf16 too, it needs no packing pass.
      DeviceBlock dVCopy = backend.matmulKernels().rowsCopyTarget(dV);
      backend.kernel("attention_backward_dkdv_bf16_d" + padded)
          .grid(tiles(shape, KEY_ROWS), shape.numKeyValueHeads(), shape.batch()).block(128, 1, 1)
          .sharedBytes(tileBytes(padded) * 6 + 4 * KEY_ROWS * Float.BYTES)
          .arg(gb).arg(qb).arg(kb).arg(vb).input(logSumExp).arg(rowDot).output(dK).output(dV)
          .argOrNull(dVCopy).struct(fields(shape)).arg(shape.scale()).run();
      backend.matmulKernels().adoptRowsCopy(dV, dVCopy);
    } else {
      backend.kernel("attention_backward_dq_f32").grid(warpBlocks(rows), 1, 1).block(THREADS, 1, 1)
          .input(dOut).input(q).input(k).input(v).input(logSumExp).arg(rowDot).output(dQ)
          .struct(fields(shape)).arg(shape.scale()).run();
      backend.kernel("attention_backward_dkdv_f32")
          .grid(warpBlocks((long) shape.tokens() * shape.numKeyValueHeads()), 1, 1).block(THREADS, 1, 1)
          .input(dOut).input(q).input(k).input(v).input(logSumExp).arg(rowDot).output(dK).output(dV)
          .struct(fields(shape)).arg(shape.scale()).run();
    }
    backend.release(rowDot);
  }

  /**
   * The tensor-core kernels' operand: [tokens][heads][padded] bf16, zero past the head width
   * (owned by the backend's {@link PackCache}: q, k and v packed for the forward pass serve the
   * backward pass too).
   */
  private DeviceBlock packHeads(CudaTensor x, int heads, AttentionShape shape, int padded) {
    if (padded == shape.headDim()) {
      // Unpadded heads: the products' bf16 copy has the same layout, if an op wrote one (rotary).
      DeviceBlock rowsCopy = backend.matmulKernels().rowsCopy(x);
      if (rowsCopy != null) {
        return rowsCopy;
      }
    }
    long rows = (long) shape.tokens() * heads;
    return backend.packs().get(x, "heads " + heads + "×" + padded, rows * padded * 2, packed ->
        backend.kernel("pack_heads_bf16").gridFor(rows * padded / 8).input(x)
            .arg((long) shape.tokens()).arg(heads).arg(shape.headDim()).arg(packed).arg(padded).run());
  }

  private static void requireSupported(AttentionShape shape) {
    if (shape.headDim() > MAX_HEAD_DIM) {
      throw new IllegalArgumentException("the CUDA backend's attention takes heads up to "
          + MAX_HEAD_DIM + " wide, got " + shape.headDim());
    }
    if (shape.numHeads() > 65535 || shape.batch() > 65535) {
      throw new IllegalArgumentException("the CUDA backend's attention takes at most 65535 heads "
          + "and sequences per call, got " + shape);
    }
  }

  /** The padded head width of the tensor-core kernel to use, or 0 for the fp32 kernels. */
  private int tensorCoreWidth(AttentionShape shape) {
    if (backend.precision() != MatmulPrecision.BF16 || shape.headDim() > TENSOR_CORE_MAX_HEAD_DIM) {
      return 0;
    }
    int padded = 16;
    while (padded < shape.headDim()) {
      padded *= 2;
    }
    return padded;
  }

  /** Bytes of one staged 64-row bf16 tile, rows padded by 8 values (see the .cu file). */
  private static int tileBytes(int padded) {
    return KEY_ROWS * (padded + 8) * 2;
  }

  private static int tiles(AttentionShape shape, int rowsPerBlock) {
    return (shape.seqLen() + rowsPerBlock - 1) / rowsPerBlock;
  }

  private static int warpBlocks(long warps) {
    return (int) ((warps + WARPS_PER_BLOCK - 1) / WARPS_PER_BLOCK);
  }

  private static int[] fields(AttentionShape shape) {
    return new int[] {shape.batch(), shape.seqLen(), shape.numHeads(), shape.numKeyValueHeads(),
        shape.headDim()};
  }
}
