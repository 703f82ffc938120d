package dev.calibra.jobs.workdir;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.calibra.calibration.cbq.CarriedBlock;
import dev.calibra.calibration.cbq.ParameterState;
import dev.calibra.calibration.cbq.QuantizerState;
import dev.calibra.model.llama.Linear;
import dev.calibra.storage.FileContentException;
import dev.calibra.storage.FileLocation;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.arrow.vector.IntVector;
import org.apache.arrow.vector.VarCharVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.complex.ListVector;
import org.apache.arrow.vector.complex.impl.UnionListWriter;
import org.apache.arrow.vector.types.FloatingPointPrecision;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.FieldType;
import org.apache.arrow.vector.types.pojo.Schema;

/**
 * The learned state of blocks one shard trained but did not finish ({@link CarriedBlock}), as an
 * Arrow IPC file: what the sequential schedule hands to the next shard with the activations, so
 * that it goes on training them exactly where the previous shard stopped. One row per learned
 * parameter (block, layer, which parameter, its shape, Adam step count, value and both moments),
 * one record batch per block: a uniform layer's clip logits and LoRA-Rounding factors, a
 * vector-quantized one's assignment logits and codebook. The float32 values are stored as they
 * are, so that the next shard trains on exactly what this one learned. A VQ layer's candidate
 * codewords are not stored: the next shard fits them again from the same float inputs and seed,
 * which gives the same ones. The schema metadata lists the blocks, since a block whose recipe
 * learns nothing has no rows.
 */
public final class CarriedStateFile {

  static final String METADATA_KEY = "calibra.carried";
  static final String FORMAT = "calibra-carried-state 1";

  /** A layer quantizer's parameters as the file names them, in {@link QuantizerState}'s order. */
  private enum Kind {
    CLIP_LOWER, CLIP_UPPER, LORA_A, LORA_B, ASSIGNMENT_LOGITS, CODEBOOK, GROUP_LOG_SCALE;

    String columnValue() {
      return name().toLowerCase(java.util.Locale.ROOT);
    }
  }

  private static final ObjectMapper JSON = new ObjectMapper();

  private CarriedStateFile() {}

  public static void write(FileLocation target, List<CarriedBlock> blocks) throws IOException {
    ObjectNode description = JSON.createObjectNode();
    description.put("format", FORMAT);
    description.putArray("blocks").addAll(blocks.stream()
        .map(b -> JSON.getNodeFactory().numberNode(b.block())).toList());
    Schema schema = new Schema(List.of(
        notNull("block", new ArrowType.Int(32, true)),
        notNull("layer", ArrowType.Utf8.INSTANCE),
        notNull("parameter", ArrowType.Utf8.INSTANCE),
        notNull("rows", new ArrowType.Int(32, true)),
        notNull("cols", new ArrowType.Int(32, true)),
        notNull("steps", new ArrowType.Int(32, true)),
        floats("value"), floats("first_moment"), floats("second_moment")),
        Map.of(METADATA_KEY, description.toString()));
    ArrowIpcFiles.write(target, schema, (root, writer) -> {
      for (CarriedBlock block : blocks) {
        root.allocateNew();
        int row = 0;
        for (Linear linear : Linear.values()) {
          for (Map.Entry<Kind, ParameterState> p : parameters(block.quantizers().get(linear)).entrySet()) {
            setRow(root, row++, block.block(), linear, p.getKey(), p.getValue());
          }
        }
        root.setRowCount(row);
        writer.writeBatch();
      }
    });
  }

  public static List<CarriedBlock> read(FileLocation source) throws IOException {
    return ArrowIpcFiles.read(source, reader -> {
      VectorSchemaRoot root = reader.getVectorSchemaRoot();
      String text = root.getSchema().getCustomMetadata().get(METADATA_KEY);
      JsonNode description = text == null ? null : JSON.readTree(text);
      if (description == null || !FORMAT.equals(description.path("format").asText())) {
        throw new FileContentException(source + " is not a Calibra carried-state file: its "
            + "schema metadata has no " + METADATA_KEY + " of format '" + FORMAT + "'");
      }
      Map<Integer, Map<Linear, Map<Kind, ParameterState>>> states = new LinkedHashMap<>();
      for (JsonNode block : description.path("blocks")) {
        Map<Linear, Map<Kind, ParameterState>> layers = new EnumMap<>(Linear.class);
        for (Linear linear : Linear.values()) {
          layers.put(linear, new EnumMap<>(Kind.class));
        }
        states.put(block.asInt(), layers);
      }
      while (reader.loadNextBatch()) {
        for (int row = 0; row < root.getRowCount(); row++) {
          int block = ((IntVector) root.getVector("block")).get(row);
          Map<Linear, Map<Kind, ParameterState>> layers = states.get(block);
          if (layers == null) {
            throw new FileContentException(source + ": row " + row + " is for block " + block
                + ", which the metadata does not list");
          }
          layers.get(linear(text(root, "layer", row), source))
              .put(kind(text(root, "parameter", row), source), state(root, row));
        }
      }
      List<CarriedBlock> blocks = new ArrayList<>();
      states.forEach((block, layers) -> {
        Map<Linear, QuantizerState> quantizers = new EnumMap<>(Linear.class);
        layers.forEach((linear, p) -> quantizers.put(linear, new QuantizerState(
            p.get(Kind.CLIP_LOWER), p.get(Kind.CLIP_UPPER), p.get(Kind.LORA_A), p.get(Kind.LORA_B),
            p.get(Kind.ASSIGNMENT_LOGITS), p.get(Kind.CODEBOOK), p.get(Kind.GROUP_LOG_SCALE), null)));
        blocks.add(new CarriedBlock(block, quantizers));
      });
      return blocks;
    });
  }

  private static Map<Kind, ParameterState> parameters(QuantizerState state) {
    Map<Kind, ParameterState> present = new EnumMap<>(Kind.class);
    if (state == null) {
      return present;
    }
    if (state.latentWeight() != null) {
      // The end-to-end pass runs in one task and is never carried between tasks.
      throw new IllegalArgumentException("latent weights of the end-to-end pass are not carried");
    }
    ParameterState[] values = {state.clipLower(), state.clipUpper(), state.loraA(), state.loraB(),
        state.assignmentLogits(), state.codebook(), state.groupLogScale()};
    for (Kind kind : Kind.values()) {
      if (values[kind.ordinal()] != null) {
        present.put(kind, values[kind.ordinal()]);
      }
    }
    return present;
  }

  private static void setRow(VectorSchemaRoot root, int row, int block, Linear linear, Kind kind,
      ParameterState state) {
    ((IntVector) root.getVector("block")).setSafe(row, block);
    ((VarCharVector) root.getVector("layer")).setSafe(row, linear.hfName().getBytes(StandardCharsets.UTF_8));
    ((VarCharVector) root.getVector("parameter")).setSafe(row,
        kind.columnValue().getBytes(StandardCharsets.UTF_8));
    ((IntVector) root.getVector("rows")).setSafe(row, state.rows());
    ((IntVector) root.getVector("cols")).setSafe(row, state.cols());
    ((IntVector) root.getVector("steps")).setSafe(row, state.steps());
    setFloats(root, "value", row, state.value());
    setFloats(root, "first_moment", row, state.firstMoment());
    setFloats(root, "second_moment", row, state.secondMoment());
  }

  private static ParameterState state(VectorSchemaRoot root, int row) {
    return new ParameterState(((IntVector) root.getVector("rows")).get(row),
        ((IntVector) root.getVector("cols")).get(row), getFloats(root, "value", row),
        getFloats(root, "first_moment", row), getFloats(root, "second_moment", row),
        ((IntVector) root.getVector("steps")).get(row));
  }

  private static void setFloats(VectorSchemaRoot root, String column, int row, float[] values) {
    UnionListWriter writer = ((ListVector) root.getVector(column)).getWriter();
    writer.setPosition(row);
    writer.startList();
    for (float v : values) {
      writer.float4().writeFloat4(v);
    }
    writer.endList();
  }

  private static float[] getFloats(VectorSchemaRoot root, String column, int row) {
    ListVector list = (ListVector) root.getVector(column);
    org.apache.arrow.vector.Float4Vector items = (org.apache.arrow.vector.Float4Vector) list.getDataVector();
    int start = list.getElementStartIndex(row);
    float[] values = new float[list.getElementEndIndex(row) - start];
    for (int i = 0; i < values.length; i++) {
      values[i] = items.get(start + i);
    }
    return values;
  }

  private static String text(VectorSchemaRoot root, String column, int row) {
    return new String(((VarCharVector) root.getVector(column)).get(row), StandardCharsets.UTF_8);
  }

  private static Linear linear(String name, FileLocation source) throws FileContentException {
    for (Linear linear : Linear.values()) {
      if (linear.hfName().equals(name)) {
        return linear;
      }
    }
    throw new FileContentException(source + ": unknown layer '" + name + "'");
  }

  private static Kind kind(String name, FileLocation source) throws FileContentException {
    for (Kind kind : Kind.values()) {
      if (kind.columnValue().equals(name)) {
        return kind;
      }
    }
    throw new FileContentException(source + ": unknown parameter '" + name + "'");
  }

  private static Field notNull(String name, ArrowType type) {
    return new Field(name, FieldType.notNullable(type), null);
  }

  private static Field floats(String name) {
    return new Field(name, FieldType.notNullable(ArrowType.List.INSTANCE), List.of(new Field(
        "item", FieldType.notNullable(new ArrowType.FloatingPoint(FloatingPointPrecision.SINGLE)),
        null)));
  }
}
