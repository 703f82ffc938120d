package dev.calibra.storage.artifact;

import java.util.Arrays;
import java.util.Locale;
import java.util.Optional;

/** How a tensor's values are stored: the {@code kind} column of the artifact. */
public enum TensorKind {
  /** Uniform asymmetric integer codes with a scale and zero point per (row, group). */
  UNIFORM,
  /** Vector quantization: rows cut into sub-vectors, each an index into a codebook. */
  VQ,
  /** Plain float32 values (embeddings, norms, anything not quantized). */
  FLOAT;

  /** The spelling in the file: "uniform", "vq" or "float". */
  public String columnValue() {
    return name().toLowerCase(Locale.ROOT);
  }

  public static Optional<TensorKind> fromColumnValue(String value) {
    return Arrays.stream(values()).filter(k -> k.columnValue().equals(value)).findFirst();
  }
}
