package dev.calibra.jobs.workdir;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.calibra.calibration.cbq.ActivationStreams;
import dev.calibra.model.backend.Backend;
import dev.calibra.model.backend.Tensor;
import dev.calibra.storage.FileContentException;
import dev.calibra.storage.FileLocation;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.Float4Vector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.complex.FixedSizeListVector;
import org.apache.arrow.vector.types.FloatingPointPrecision;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.FieldType;
import org.apache.arrow.vector.types.pojo.Schema;

/**
 * The calibration samples' hidden states at one block's input ({@link ActivationStreams}) as an
 * Arrow IPC file: how activations move between the stages of a Spark job (spark-jobs/README.md,
 * "Work directory", specifies the layout). One row per token, one record batch per calibration
 * batch, a column per stream holding each token's hidden vector as a fixed-size list of float32;
 * the quantized column is left out where the two streams are the same tensors (at capture).
 */
public final class ActivationFile {

  /** Schema metadata key of the file's description (block, sequence length, width, streams). */
  public static final String METADATA_KEY = "calibra.activations";
  static final String FORMAT = "calibra-activations 1";
  static final String FLOAT = "float";
  static final String QUANTIZED = "quantized";

  private static final ObjectMapper JSON = new ObjectMapper();

  private ActivationFile() {}

  /** Writes the streams, downloading one batch at a time from the backend. */
  public static void write(FileLocation target, ActivationStreams streams, Backend backend)
      throws IOException {
    List<Tensor> floats = streams.floatStream();
    List<Tensor> quantized = streams.quantizedStream();
    boolean same = true;
    for (int i = 0; i < floats.size(); i++) {
      same &= floats.get(i) == quantized.get(i);
    }
    int hidden = floats.isEmpty() ? 0 : floats.get(0).cols();
    List<Field> fields = new ArrayList<>();
    fields.add(column(FLOAT, hidden));
    if (!same) {
      fields.add(column(QUANTIZED, hidden));
    }
    ObjectNode description = JSON.createObjectNode();
    description.put("format", FORMAT);
    description.put("block", streams.block());
    description.put("seq_len", streams.seqLen());
    description.put("hidden", hidden);
    description.put("batches", floats.size());
    Schema schema = new Schema(fields, Map.of(METADATA_KEY, description.toString()));
    final boolean writeQuantized = !same;
    ArrowIpcFiles.write(target, schema, (root, writer) -> {
      for (int i = 0; i < floats.size(); i++) {
        Tensor batch = floats.get(i);
        root.setRowCount(0);
        fill(root.getVector(FLOAT), backend.download(batch), batch.rows());
        if (writeQuantized) {
          fill(root.getVector(QUANTIZED), backend.download(quantized.get(i)), batch.rows());
        }
        root.setRowCount(batch.rows());
        writer.writeBatch();
      }
    });
  }

  /** Reads the streams back onto {@code backend}, bit for bit as they were written. */
  public static ActivationStreams read(FileLocation source, Backend backend) throws IOException {
    return ArrowIpcFiles.read(source, reader -> {
      VectorSchemaRoot root = reader.getVectorSchemaRoot();
      JsonNode description = description(root.getSchema(), source);
      int hidden = description.path("hidden").asInt();
      boolean hasQuantized = root.getSchema().getFields().stream()
          .anyMatch(f -> f.getName().equals(QUANTIZED));
      List<Tensor> floats = new ArrayList<>();
      List<Tensor> quantized = new ArrayList<>();
      while (reader.loadNextBatch()) {
        int rows = root.getRowCount();
        Tensor f = backend.upload(values(root.getVector(FLOAT), rows, hidden), rows, hidden);
        floats.add(f);
        quantized.add(hasQuantized
            ? backend.upload(values(root.getVector(QUANTIZED), rows, hidden), rows, hidden) : f);
      }
      if (floats.size() != description.path("batches").asInt()) {
        throw new FileContentException(source + " holds " + floats.size() + " batches, its "
            + "metadata says " + description.path("batches").asInt());
      }
      return new ActivationStreams(description.path("block").asInt(), floats, quantized,
          description.path("seq_len").asInt());
    });
  }

  private static Field column(String name, int width) {
    Field item = new Field("item", FieldType.notNullable(
        new ArrowType.FloatingPoint(FloatingPointPrecision.SINGLE)), null);
    return new Field(name, FieldType.notNullable(new ArrowType.FixedSizeList(width)),
        List.of(item));
  }

  private static void fill(FieldVector vector, float[] values, int rows) {
    FixedSizeListVector list = (FixedSizeListVector) vector;
    list.setInitialCapacity(rows);
    list.allocateNew();
    Float4Vector items = (Float4Vector) list.getDataVector();
    items.setInitialCapacity(values.length);
    items.allocateNew(values.length);
    for (int r = 0; r < rows; r++) {
      list.setNotNull(r);
    }
    for (int i = 0; i < values.length; i++) {
      items.set(i, values[i]);
    }
    items.setValueCount(values.length);
    list.setValueCount(rows);
  }

  private static float[] values(FieldVector vector, int rows, int width) {
    Float4Vector items = (Float4Vector) ((FixedSizeListVector) vector).getDataVector();
    float[] values = new float[rows * width];
    for (int i = 0; i < values.length; i++) {
      values[i] = items.get(i);
    }
    return values;
  }

  private static JsonNode description(Schema schema, FileLocation source) throws IOException {
    String text = schema.getCustomMetadata().get(METADATA_KEY);
    JsonNode description = text == null ? null : JSON.readTree(text);
    if (description == null || !FORMAT.equals(description.path("format").asText())) {
      throw new FileContentException(source + " is not a Calibra activation file: its schema "
          + "metadata has no " + METADATA_KEY + " of format '" + FORMAT + "'");
    }
    return description;
  }
}
