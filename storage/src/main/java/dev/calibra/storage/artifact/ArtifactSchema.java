package dev.calibra.storage.artifact;

import java.util.List;
import java.util.Map;
import org.apache.arrow.vector.types.FloatingPointPrecision;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.FieldType;
import org.apache.arrow.vector.types.pojo.Schema;

/**
 * The Arrow schema of an artifact (and of its part files), column by column as ARTIFACT.md
 * specifies it. The column order is also the order the checksum covers them in.
 */
public final class ArtifactSchema {

  public static final String NAME = "name";
  public static final String BLOCK = "block";
  public static final String KIND = "kind";
  public static final String SHAPE = "shape";
  public static final String BITS = "bits";
  public static final String GROUP_SIZE = "group_size";
  public static final String PACKED_CODES = "packed_codes";
  public static final String SCALES = "scales";
  public static final String ZERO_POINTS = "zero_points";
  public static final String CLIP_VALUES = "clip_values";
  public static final String CODEBOOK = "codebook";
  public static final String VQ_DIM = "vq_dim";
  public static final String VQ_CODEBOOK_ROWS = "vq_codebook_rows";
  public static final String ASSIGNMENT_INDICES = "assignment_indices";
  public static final String FLOAT_VALUES = "float_values";
  public static final String CRC32C = "crc32c";

  private static final ArrowType UTF8 = ArrowType.Utf8.INSTANCE;
  private static final ArrowType INT32 = new ArrowType.Int(32, true);
  private static final ArrowType INT64 = new ArrowType.Int(64, true);
  private static final ArrowType FLOAT16 = new ArrowType.FloatingPoint(FloatingPointPrecision.HALF);
  private static final ArrowType FLOAT32 = new ArrowType.FloatingPoint(FloatingPointPrecision.SINGLE);
  private static final ArrowType BYTES = ArrowType.LargeBinary.INSTANCE;

  /** Every column in file order. */
  public static final List<Field> FIELDS = List.of(
      required(NAME, UTF8),
      optional(BLOCK, INT32),
      required(KIND, UTF8),
      list(SHAPE, INT64, false),
      optional(BITS, INT32),
      optional(GROUP_SIZE, INT32),
      optional(PACKED_CODES, BYTES),
      list(SCALES, FLOAT32, true),
      list(ZERO_POINTS, INT32, true),
      list(CLIP_VALUES, FLOAT32, true),
      list(CODEBOOK, FLOAT16, true),
      optional(VQ_DIM, INT32),
      optional(ASSIGNMENT_INDICES, BYTES),
      list(FLOAT_VALUES, FLOAT32, true),
      required(CRC32C, INT64),
      optional(VQ_CODEBOOK_ROWS, INT32));

  /** Format 1.0's columns, the first of {@link #FIELDS}; 1.1 appended vq_codebook_rows. */
  public static final int FORMAT_1_0_COLUMNS = 15;

  private ArtifactSchema() {}

  public static Schema withMetadata(Map<String, String> metadata) {
    return new Schema(FIELDS, metadata);
  }

  private static Field required(String name, ArrowType type) {
    return new Field(name, FieldType.notNullable(type), null);
  }

  private static Field optional(String name, ArrowType type) {
    return new Field(name, FieldType.nullable(type), null);
  }

  private static Field list(String name, ArrowType element, boolean nullable) {
    Field item = new Field("item", FieldType.notNullable(element), null);
    FieldType type = nullable ? FieldType.nullable(ArrowType.List.INSTANCE)
        : FieldType.notNullable(ArrowType.List.INSTANCE);
    return new Field(name, type, List.of(item));
  }
}
