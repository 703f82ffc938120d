package dev.calibra.kernels.cuda;

import java.util.Locale;

/**
 * How the CUDA backend multiplies matrices, in matmul and inside attention. Tensors stay float32
 * either way; only the inputs of the products differ.
 */
public enum MatmulPrecision {
  /**
   * Inputs rounded to bfloat16 (8 significant bits), products summed in float32 on the tensor
   * cores: the speed of the hardware, with relative errors of about 2^-8 per product.
   */
  BF16,
  /**
   * float32 inputs, products and sums on the CUDA cores, as the CPU backend computes: for parity
   * checks and for evaluations that bf16 rounding would disturb; many times slower.
   */
  FP32;

  /** "bf16" or "fp32", case-insensitive. */
  public static MatmulPrecision parse(String text) {
    return switch (text.toLowerCase(Locale.ROOT)) {
      case "bf16" -> BF16;
      case "fp32" -> FP32;
      default -> throw new IllegalArgumentException("GPU matmul precision must be bf16 or fp32, got '"
          + text + "'");
    };
  }

  public String label() {
    return name().toLowerCase(Locale.ROOT);
  }
}
