package dev.calibra.storage.artifact;

import dev.calibra.storage.safetensors.FloatDecoding;

/**
 * Turns a stored tensor back into float32 weights, row-major, exactly as ARTIFACT.md defines it
 * for each kind. The arithmetic is float32 throughout so that the result is bit-identical to the
 * weights the quantizer evaluated (and to any other implementation of the spec).
 */
public final class Dequantizer {

  private Dequantizer() {}

  public static float[] toFloats(ArtifactTensor tensor) {
    int rows = tensor.rows();
    int cols = tensor.cols();
    return switch (tensor.kind()) {
      case FLOAT -> ((FloatPayload) tensor.payload()).values().clone();
      case UNIFORM -> uniform((UniformPayload) tensor.payload(), rows, cols);
      case VQ -> vq((VqPayload) tensor.payload(), rows, cols);
    };
  }

  /** w = scale·(code − zero), per (row, group). */
  static float[] uniform(UniformPayload payload, int rows, int cols) {
    int count = Math.multiplyExact(rows, cols);
    byte[] codes = BitPacking.unpackBytes(payload.packedCodes(), payload.bits(), count);
    int width = payload.groupWidth(cols);
    int groupsPerRow = payload.groupsPerRow(cols);
    float[] scales = payload.scales();
    int[] zeros = payload.zeroPoints();
    float[] weights = new float[count];
    for (int r = 0; r < rows; r++) {
      for (int c = 0; c < cols; c++) {
        int g = r * groupsPerRow + c / width;
        int i = r * cols + c;
        weights[i] = scales[g] * ((codes[i] & 0xFF) - zeros[g]);
      }
    }
    return weights;
  }

  /**
   * w[r, j·dim + t] = codebook[(c·entries + index(r, j))·dim + t] · rowScale[r], with c the
   * codebook of row r.
   */
  static float[] vq(VqPayload payload, int rows, int cols) {
    int dim = payload.dim();
    int perRow = cols / dim;
    int[] indices = BitPacking.unpack(payload.packedIndices(), payload.indexBits(), rows * perRow);
    short[] codebook = payload.codebook();
    int entries = payload.entries(rows);
    float[] weights = new float[Math.multiplyExact(rows, cols)];
    for (int r = 0; r < rows; r++) {
      float scale = payload.rowScales() == null ? 1f : payload.rowScales()[r];
      int first = payload.codebookOf(r) * entries;
      for (int j = 0; j < perRow; j++) {
        int entry = indices[r * perRow + j];
        if (entry >= entries) {
          throw new IllegalArgumentException("assignment index " + entry + " at row " + r
              + ", sub-vector " + j + " is past the codebook's " + entries + " entries");
        }
        for (int t = 0; t < dim; t++) {
          float value = FloatDecoding.halfToFloat(codebook[(first + entry) * dim + t]);
          weights[r * cols + j * dim + t] = payload.rowScales() == null ? value : value * scale;
        }
      }
    }
    return weights;
  }
}
