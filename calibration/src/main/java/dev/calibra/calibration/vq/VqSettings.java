package dev.calibra.calibration.vq;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The vector quantization of a layer: rows cut into sub-vectors of {@code dim} consecutive input
 * columns, each replaced by one of 2^indexBits codewords of a float16 codebook shared by the
 * layer, optionally times a per-row scale. Written "d4k8" (dim 4, 256 entries, scaled rows) or
 * "d4k8-unscaled".
 *
 * @param dim columns per sub-vector: 1 to 8, dividing the layer's input size
 * @param indexBits bits of an assignment index: the codebook has 2^indexBits entries (1 to 16)
 * @param rowScales whether each row has a scale (its RMS, rounded to float16) that the codebook
 *     is fitted relative to: rows of very different sizes then share codewords
 */
public record VqSettings(int dim, int indexBits, boolean rowScales) {

  public static final int MAX_DIM = 8;
  public static final int MAX_INDEX_BITS = 16;
  private static final Pattern TEXT = Pattern.compile("d(\\d+)k(\\d+)(-unscaled)?");

  public VqSettings {
    if (dim < 1 || dim > MAX_DIM) {
      throw new IllegalArgumentException("sub-vector dimension must be 1 to " + MAX_DIM + ", got "
          + dim);
    }
    if (indexBits < 1 || indexBits > MAX_INDEX_BITS) {
      throw new IllegalArgumentException("index bits must be 1 to " + MAX_INDEX_BITS + ", got "
          + indexBits);
    }
  }

  /** Parses "d4k8" or "d4k8-unscaled". */
  public static VqSettings parse(String text) {
    Matcher m = TEXT.matcher(text.trim().toLowerCase(Locale.ROOT));
    if (!m.matches()) {
      throw new IllegalArgumentException("VQ settings are written d<dim>k<index bits>, e.g. d4k8 "
          + "or d4k8-unscaled; got '" + text + "'");
    }
    return new VqSettings(Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2)),
        m.group(3) == null);
  }

  public int entries() {
    return 1 << indexBits;
  }

  /** "d4k8", or "d4k8-unscaled": how settings are written. */
  public String label() {
    return "d" + dim + "k" + indexBits + (rowScales ? "" : "-unscaled");
  }
}
