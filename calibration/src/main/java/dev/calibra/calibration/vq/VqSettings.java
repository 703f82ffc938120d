package dev.calibra.calibration.vq;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The vector quantization of a layer: rows cut into sub-vectors of {@code dim} consecutive input
 * columns, each replaced by one of 2^indexBits codewords of a float16 codebook, optionally times
 * a per-row scale. One codebook serves the whole layer, or each group of {@code codebookRows}
 * consecutive rows has its own. Written "d4k8" (dim 4, 256 entries, scaled rows, one codebook),
 * "d4k6r96" (a codebook per 96 rows) or "d4k8-unscaled".
 *
 * @param dim columns per sub-vector: 1 to 8, dividing the layer's input size
 * @param indexBits bits of an assignment index: each codebook has 2^indexBits entries (1 to 16)
 * @param rowScales whether each row has a scale (its RMS, rounded to float16) that the codebook
 *     is fitted relative to: rows of very different sizes then share codewords
 * @param codebookRows rows sharing one codebook (the last group may be shorter), or 0 for one
 *     codebook per layer
 */
public record VqSettings(int dim, int indexBits, boolean rowScales, int codebookRows) {

  public static final int MAX_DIM = 8;
  public static final int MAX_INDEX_BITS = 16;
  private static final Pattern TEXT = Pattern.compile("d(\\d+)k(\\d+)(?:r(\\d+))?(-unscaled)?");

  public VqSettings {
    if (dim < 1 || dim > MAX_DIM) {
      throw new IllegalArgumentException("sub-vector dimension must be 1 to " + MAX_DIM + ", got "
          + dim);
    }
    if (indexBits < 1 || indexBits > MAX_INDEX_BITS) {
      throw new IllegalArgumentException("index bits must be 1 to " + MAX_INDEX_BITS + ", got "
          + indexBits);
    }
    if (codebookRows < 0) {
      throw new IllegalArgumentException("rows per codebook must be positive (or 0 for one "
          + "codebook per layer), got " + codebookRows);
    }
  }

  /** Parses "d4k8", "d4k6r96" or "d4k8-unscaled". */
  public static VqSettings parse(String text) {
    Matcher m = TEXT.matcher(text.trim().toLowerCase(Locale.ROOT));
    if (!m.matches()) {
      throw new IllegalArgumentException("VQ settings are written d<dim>k<index bits>[r<rows per "
          + "codebook>][-unscaled], e.g. d4k8, d4k6r96 or d4k8-unscaled; got '" + text + "'");
    }
    int codebookRows = m.group(3) == null ? 0 : Integer.parseInt(m.group(3));
    if (m.group(3) != null && codebookRows == 0) {
      throw new IllegalArgumentException("rows per codebook must be positive, got '" + text
          + "' (leave r out for one codebook per layer)");
    }
    return new VqSettings(Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2)),
        m.group(4) == null, codebookRows);
  }

  /** The rows each codebook of a layer of {@code rows} rows serves (all of them for 0). */
  public int codebookRowsOf(int rows) {
    return codebookRows == 0 ? rows : Math.min(codebookRows, rows);
  }

  public int entries() {
    return 1 << indexBits;
  }

  /** "d4k8", "d4k6r96" or "d4k8-unscaled": how settings are written. */
  public String label() {
    return "d" + dim + "k" + indexBits + (codebookRows == 0 ? "" : "r" + codebookRows)
        + (rowScales ? "" : "-unscaled");
  }
}
