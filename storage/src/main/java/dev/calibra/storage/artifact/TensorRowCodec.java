package dev.calibra.storage.artifact;

import static dev.calibra.storage.artifact.ArtifactSchema.ASSIGNMENT_INDICES;
import static dev.calibra.storage.artifact.ArtifactSchema.BITS;
import static dev.calibra.storage.artifact.ArtifactSchema.BLOCK;
import static dev.calibra.storage.artifact.ArtifactSchema.CLIP_VALUES;
import static dev.calibra.storage.artifact.ArtifactSchema.CODEBOOK;
import static dev.calibra.storage.artifact.ArtifactSchema.CRC32C;
import static dev.calibra.storage.artifact.ArtifactSchema.FLOAT_VALUES;
import static dev.calibra.storage.artifact.ArtifactSchema.GROUP_SIZE;
import static dev.calibra.storage.artifact.ArtifactSchema.KIND;
import static dev.calibra.storage.artifact.ArtifactSchema.NAME;
import static dev.calibra.storage.artifact.ArtifactSchema.PACKED_CODES;
import static dev.calibra.storage.artifact.ArtifactSchema.SCALES;
import static dev.calibra.storage.artifact.ArtifactSchema.SHAPE;
import static dev.calibra.storage.artifact.ArtifactSchema.VQ_CODEBOOK_ROWS;
import static dev.calibra.storage.artifact.ArtifactSchema.VQ_DIM;
import static dev.calibra.storage.artifact.ArtifactSchema.ZERO_POINTS;

import java.nio.charset.StandardCharsets;
import java.util.List;
import org.apache.arrow.vector.BigIntVector;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.Float2Vector;
import org.apache.arrow.vector.Float4Vector;
import org.apache.arrow.vector.IntVector;
import org.apache.arrow.vector.LargeVarBinaryVector;
import org.apache.arrow.vector.VarCharVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.complex.ListVector;

/**
 * Moves one tensor between an {@link ArtifactTensor} and row 0 of a {@link VectorSchemaRoot}
 * of the {@link ArtifactSchema}: every record batch of an artifact holds exactly one tensor, so
 * that tensors are written and read one at a time and never the whole model at once.
 */
final class TensorRowCodec {

  /** A decoded row and the checksum stored with it. */
  record StoredRow(ArtifactTensor tensor, long storedChecksum) {}

  private TensorRowCodec() {}

  /** Replaces the root's content by the one row of {@code tensor}, with its checksum. */
  static void write(ArtifactTensor tensor, VectorSchemaRoot root) {
    root.clear();
    root.allocateNew();
    TensorPayload payload = tensor.payload();
    UniformPayload uniform = payload instanceof UniformPayload u ? u : null;
    VqPayload vq = payload instanceof VqPayload v ? v : null;
    FloatPayload floats = payload instanceof FloatPayload f ? f : null;

    ((VarCharVector) root.getVector(NAME)).setSafe(0, tensor.name().getBytes(StandardCharsets.UTF_8));
    setInt(root, BLOCK, tensor.block() == ArtifactTensor.NO_BLOCK ? null : tensor.block());
    ((VarCharVector) root.getVector(KIND)).setSafe(0,
        tensor.kind().columnValue().getBytes(StandardCharsets.UTF_8));
    ListVector shape = (ListVector) root.getVector(SHAPE);
    int start = shape.startNewValue(0);
    int[] dims = tensor.shape();
    for (int i = 0; i < dims.length; i++) {
      ((BigIntVector) shape.getDataVector()).setSafe(start + i, dims[i]);
    }
    shape.endValue(0, dims.length);
    setInt(root, BITS, uniform != null ? (Integer) uniform.bits() : vq != null ? (Integer) vq.indexBits() : null);
    setInt(root, GROUP_SIZE, uniform != null ? uniform.groupSize() : null);
    setBytes(root, PACKED_CODES, uniform != null ? uniform.packedCodes() : null);
    setFloats(root, SCALES, uniform != null ? uniform.scales() : vq != null ? vq.rowScales() : null);
    setInts(root, ZERO_POINTS, uniform != null ? uniform.zeroPoints() : null);
    setFloats(root, CLIP_VALUES, uniform != null ? uniform.clipValues() : null);
    setHalves(root, CODEBOOK, vq != null ? vq.codebook() : null);
    setInt(root, VQ_DIM, vq != null ? vq.dim() : null);
    setInt(root, VQ_CODEBOOK_ROWS, vq != null ? vq.codebookRows() : null);
    setBytes(root, ASSIGNMENT_INDICES, vq != null ? vq.packedIndices() : null);
    setFloats(root, FLOAT_VALUES, floats != null ? floats.values() : null);
    ((BigIntVector) root.getVector(CRC32C)).setSafe(0, TensorChecksum.of(tensor));
    root.setRowCount(1);
  }

  /**
   * Decodes row 0 of a loaded batch.
   *
   * @throws IllegalArgumentException when the row is not a valid tensor; the message names the
   *     tensor and the column at fault
   */
  static StoredRow read(VectorSchemaRoot root) {
    if (root.getRowCount() != 1) {
      throw new IllegalArgumentException("a record batch holds " + root.getRowCount()
          + " rows, expected exactly one tensor");
    }
    VarCharVector nameVector = (VarCharVector) root.getVector(NAME);
    if (nameVector.isNull(0)) {
      throw new IllegalArgumentException("a row has no name");
    }
    String name = new String(nameVector.get(0), StandardCharsets.UTF_8);
    String kindText = new String(((VarCharVector) root.getVector(KIND)).get(0), StandardCharsets.UTF_8);
    TensorKind kind = TensorKind.fromColumnValue(kindText).orElseThrow(() ->
        new IllegalArgumentException(name + ": kind '" + kindText
            + "' is not uniform, vq or float"));
    long[] longShape = longs(root, SHAPE);
    int[] shape = new int[longShape.length];
    for (int i = 0; i < shape.length; i++) {
      if (longShape[i] <= 0 || longShape[i] > Integer.MAX_VALUE) {
        throw new IllegalArgumentException(name + ": dimension " + longShape[i] + " of its shape is "
            + "outside 1 to " + Integer.MAX_VALUE);
      }
      shape[i] = (int) longShape[i];
    }
    Integer block = getInt(root, BLOCK);
    TensorPayload payload = switch (kind) {
      case UNIFORM -> {
        onlyColumns(root, name, kind, List.of(BITS, GROUP_SIZE, PACKED_CODES, SCALES, ZERO_POINTS,
            CLIP_VALUES));
        yield new UniformPayload(required(getInt(root, BITS), name, BITS),
            required(getInt(root, GROUP_SIZE), name, GROUP_SIZE),
            required(getBytes(root, PACKED_CODES), name, PACKED_CODES),
            required(getFloats(root, SCALES), name, SCALES),
            required(getInts(root, ZERO_POINTS), name, ZERO_POINTS),
            getFloats(root, CLIP_VALUES));
      }
      case VQ -> {
        onlyColumns(root, name, kind, List.of(BITS, SCALES, CODEBOOK, VQ_DIM, VQ_CODEBOOK_ROWS,
            ASSIGNMENT_INDICES));
        yield new VqPayload(required(getInt(root, BITS), name, BITS),
            required(getInt(root, VQ_DIM), name, VQ_DIM),
            required(getHalves(root, CODEBOOK), name, CODEBOOK),
            required(getBytes(root, ASSIGNMENT_INDICES), name, ASSIGNMENT_INDICES),
            getFloats(root, SCALES), getInt(root, VQ_CODEBOOK_ROWS));
      }
      case FLOAT -> {
        onlyColumns(root, name, kind, List.of(FLOAT_VALUES));
        yield new FloatPayload(required(getFloats(root, FLOAT_VALUES), name, FLOAT_VALUES));
      }
    };
    ArtifactTensor tensor = new ArtifactTensor(name, block == null ? ArtifactTensor.NO_BLOCK : block,
        shape, payload);
    return new StoredRow(tensor, ((BigIntVector) root.getVector(CRC32C)).get(0));
  }

  /** The payload columns a kind does not use must be null, so that no data goes unchecked. */
  private static void onlyColumns(VectorSchemaRoot root, String name, TensorKind kind,
      List<String> allowed) {
    for (String column : List.of(BITS, GROUP_SIZE, PACKED_CODES, SCALES, ZERO_POINTS, CLIP_VALUES,
        CODEBOOK, VQ_DIM, VQ_CODEBOOK_ROWS, ASSIGNMENT_INDICES, FLOAT_VALUES)) {
      FieldVector vector = root.getVector(column);  // null: a 1.0 file has no such column
      if (!allowed.contains(column) && vector != null && !vector.isNull(0)) {
        throw new IllegalArgumentException(name + ": column " + column + " is set, but a "
            + kind.columnValue() + " tensor does not use it");
      }
    }
  }

  private static <T> T required(T value, String name, String column) {
    if (value == null) {
      throw new IllegalArgumentException(name + ": column " + column + " is null");
    }
    return value;
  }

  private static void setInt(VectorSchemaRoot root, String column, Integer value) {
    IntVector vector = (IntVector) root.getVector(column);
    if (value == null) {
      vector.setNull(0);
    } else {
      vector.setSafe(0, value);
    }
  }

  private static Integer getInt(VectorSchemaRoot root, String column) {
    IntVector vector = (IntVector) root.getVector(column);
    return vector == null || vector.isNull(0) ? null : vector.get(0);
  }

  private static void setBytes(VectorSchemaRoot root, String column, byte[] value) {
    LargeVarBinaryVector vector = (LargeVarBinaryVector) root.getVector(column);
    if (value == null) {
      vector.setNull(0);
    } else {
      vector.setSafe(0, value);
    }
  }

  private static byte[] getBytes(VectorSchemaRoot root, String column) {
    LargeVarBinaryVector vector = (LargeVarBinaryVector) root.getVector(column);
    return vector.isNull(0) ? null : vector.get(0);
  }

  private static void setFloats(VectorSchemaRoot root, String column, float[] values) {
    ListVector list = (ListVector) root.getVector(column);
    if (values == null) {
      list.setNull(0);
      return;
    }
    Float4Vector data = (Float4Vector) list.getDataVector();
    int start = list.startNewValue(0);
    for (int i = 0; i < values.length; i++) {
      data.setSafe(start + i, values[i]);
    }
    list.endValue(0, values.length);
  }

  private static float[] getFloats(VectorSchemaRoot root, String column) {
    ListVector list = (ListVector) root.getVector(column);
    if (list.isNull(0)) {
      return null;
    }
    Float4Vector data = (Float4Vector) list.getDataVector();
    int start = list.getElementStartIndex(0);
    float[] values = new float[list.getElementEndIndex(0) - start];
    for (int i = 0; i < values.length; i++) {
      values[i] = data.get(start + i);
    }
    return values;
  }

  private static void setInts(VectorSchemaRoot root, String column, int[] values) {
    ListVector list = (ListVector) root.getVector(column);
    if (values == null) {
      list.setNull(0);
      return;
    }
    IntVector data = (IntVector) list.getDataVector();
    int start = list.startNewValue(0);
    for (int i = 0; i < values.length; i++) {
      data.setSafe(start + i, values[i]);
    }
    list.endValue(0, values.length);
  }

  private static int[] getInts(VectorSchemaRoot root, String column) {
    ListVector list = (ListVector) root.getVector(column);
    if (list.isNull(0)) {
      return null;
    }
    IntVector data = (IntVector) list.getDataVector();
    int start = list.getElementStartIndex(0);
    int[] values = new int[list.getElementEndIndex(0) - start];
    for (int i = 0; i < values.length; i++) {
      values[i] = data.get(start + i);
    }
    return values;
  }

  private static void setHalves(VectorSchemaRoot root, String column, short[] values) {
    ListVector list = (ListVector) root.getVector(column);
    if (values == null) {
      list.setNull(0);
      return;
    }
    Float2Vector data = (Float2Vector) list.getDataVector();
    int start = list.startNewValue(0);
    for (int i = 0; i < values.length; i++) {
      data.setSafe(start + i, values[i]);
    }
    list.endValue(0, values.length);
  }

  private static short[] getHalves(VectorSchemaRoot root, String column) {
    ListVector list = (ListVector) root.getVector(column);
    if (list.isNull(0)) {
      return null;
    }
    Float2Vector data = (Float2Vector) list.getDataVector();
    int start = list.getElementStartIndex(0);
    short[] values = new short[list.getElementEndIndex(0) - start];
    for (int i = 0; i < values.length; i++) {
      values[i] = data.get(start + i);
    }
    return values;
  }

  private static long[] longs(VectorSchemaRoot root, String column) {
    ListVector list = (ListVector) root.getVector(column);
    if (list.isNull(0)) {
      throw new IllegalArgumentException("column " + column + " is null");
    }
    BigIntVector data = (BigIntVector) list.getDataVector();
    int start = list.getElementStartIndex(0);
    long[] values = new long[list.getElementEndIndex(0) - start];
    for (int i = 0; i < values.length; i++) {
      values[i] = data.get(start + i);
    }
    return values;
  }
}
