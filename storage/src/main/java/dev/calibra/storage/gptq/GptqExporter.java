package dev.calibra.storage.gptq;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.calibra.storage.AtomicCommit;
import dev.calibra.storage.FileContentException;
import dev.calibra.storage.FileLocation;
import dev.calibra.storage.artifact.ArtifactMetadata;
import dev.calibra.storage.artifact.ArtifactReader;
import dev.calibra.storage.artifact.ArtifactTensor;
import dev.calibra.storage.artifact.FloatPayload;
import dev.calibra.storage.artifact.TensorKind;
import dev.calibra.storage.artifact.TokenizerReference;
import dev.calibra.storage.artifact.UniformPayload;
import dev.calibra.storage.hf.HfTensorNames;
import dev.calibra.storage.safetensors.DType;
import dev.calibra.storage.safetensors.SafetensorsWriter;
import java.io.IOException;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.apache.arrow.memory.util.Float16;
import org.apache.hadoop.conf.Configuration;

/**
 * Exports an artifact whose quantized tensors are uniform to a Hugging Face directory in the
 * GPTQ layout (see {@link GptqPacking}) that transformers and vLLM load: model.safetensors,
 * config.json with a quantization_config, quantize_config.json and the tokenizer files. Float
 * tensors (embeddings, norms, a float lm_head) are written as float16 under their Hugging Face
 * names. Every tensor is checked against the layout before anything is written, and the
 * directory appears only when complete.
 */
public final class GptqExporter {

  /** What was exported. */
  public record Result(FileLocation directory, int bits, int groupSize, int quantizedTensors,
      int floatTensors) {}

  public static final String WEIGHTS_FILE = "model.safetensors";
  public static final String QUANTIZE_CONFIG_FILE = "quantize_config.json";
  public static final String CONFIG_FILE = "config.json";
  private static final String WEIGHT_SUFFIX = ".weight";

  private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  private GptqExporter() {}

  /**
   * @param tokenizerDirectory where the tokenizer files are, or null for the directory the
   *     artifact's tokenizer reference names
   */
  public static Result export(ArtifactReader artifact, FileLocation directory,
      FileLocation tokenizerDirectory, GptqFormat format, boolean overwrite) throws IOException {
    List<ArtifactReader.Entry> entries = artifact.entries();
    ArtifactReader.Entry scheme = checkLayout(artifact, entries);
    ArtifactMetadata metadata = artifact.metadata();
    FileLocation tokenizerSource = tokenizerDirectory != null ? tokenizerDirectory
        : TokenizerReference.source(metadata.tokenizer(), new Configuration());
    boolean quantizedHead = entries.stream().anyMatch(e ->
        e.name().equals(HfTensorNames.LM_HEAD) && e.kind() == TensorKind.UNIFORM);

    try (AtomicCommit commit = AtomicCommit.start(directory, overwrite)) {
      FileLocation temporary = commit.temporary();
      temporary.fileSystem().mkdirs(temporary.path());
      int quantized = writeWeights(artifact, entries, temporary.child(WEIGHTS_FILE), format);
      ObjectNode quantization = quantizationConfig(scheme, format, quantizedHead, metadata);
      writeJson(temporary.child(QUANTIZE_CONFIG_FILE), quantization);
      writeJson(temporary.child(CONFIG_FILE), modelConfig(metadata, quantization, quantizedHead));
      TokenizerReference.copyAll(metadata.tokenizer(), tokenizerSource, temporary);
      commit.commit();
      return new Result(commit.target(), scheme.bits(), scheme.groupSize(), quantized,
          entries.size() - quantized);
    }
  }

  /** Checks every tensor; returns the entry of one uniform tensor, whose scheme all share. */
  private static ArtifactReader.Entry checkLayout(ArtifactReader artifact,
      List<ArtifactReader.Entry> entries) throws FileContentException {
    ArtifactReader.Entry first = null;
    List<String> problems = new ArrayList<>();
    for (ArtifactReader.Entry entry : entries) {
      if (entry.kind() == TensorKind.VQ) {
        problems.add(entry.name() + " is vector-quantized, which the GPTQ layout cannot hold");
      } else if (entry.kind() == TensorKind.UNIFORM) {
        if (!entry.name().endsWith(WEIGHT_SUFFIX)) {
          problems.add(entry.name() + " is quantized but not a linear layer's .weight");
        }
        if (first == null) {
          first = entry;
        } else if (entry.bits() != first.bits() || entry.groupSize() != first.groupSize()) {
          problems.add(entry.name() + " has " + entry.bits() + " bits in groups of "
              + entry.groupSize() + " but " + first.name() + " has " + first.bits()
              + " bits in groups of " + first.groupSize() + "; GPTQ has one scheme per model");
        }
        String problem = GptqPacking.incompatibility(entry.bits(), entry.groupSize(),
            entry.shape()[0], entry.shape()[1]);
        if (problem != null) {
          problems.add(entry.name() + " " + Arrays.toString(entry.shape()) + " has " + problem);
        }
      }
    }
    if (first == null) {
      problems.add("no tensor is uniformly quantized: there is nothing to store as GPTQ");
    }
    if (!problems.isEmpty()) {
      throw new FileContentException("cannot export " + artifact.file() + " to the GPTQ layout:\n  "
          + String.join("\n  ", problems));
    }
    return first;
  }

  private static int writeWeights(ArtifactReader artifact, List<ArtifactReader.Entry> entries,
      FileLocation file, GptqFormat format) throws IOException {
    List<SafetensorsWriter.Declared> declared = new ArrayList<>();
    for (ArtifactReader.Entry entry : entries) {
      long[] shape = Arrays.stream(entry.shape()).asLongStream().toArray();
      if (entry.kind() == TensorKind.FLOAT) {
        declared.add(new SafetensorsWriter.Declared(entry.name(), DType.F16, shape));
        continue;
      }
      String base = layerName(entry.name());
      long out = shape[0];
      long in = shape[1];
      long groups = entry.groupSize() == UniformPayload.PER_CHANNEL ? 1 : in / entry.groupSize();
      declared.add(new SafetensorsWriter.Declared(base + ".qweight", DType.I32,
          new long[] {in * entry.bits() / 32, out}));
      declared.add(new SafetensorsWriter.Declared(base + ".qzeros", DType.I32,
          new long[] {groups, out * entry.bits() / 32}));
      declared.add(new SafetensorsWriter.Declared(base + ".scales", DType.F16,
          new long[] {groups, out}));
      declared.add(new SafetensorsWriter.Declared(base + ".g_idx", DType.I32, new long[] {in}));
    }
    int quantized = 0;
    try (OutputStream out = file.fileSystem().create(file.path(), false)) {
      SafetensorsWriter writer = SafetensorsWriter.start(out, declared, Map.of("format", "pt"));
      for (ArtifactReader.Entry entry : entries) {
        ArtifactTensor tensor = artifact.read(entry.name());
        if (tensor.payload() instanceof FloatPayload floats) {
          writer.write(entry.name(), SafetensorsWriter.f16(toHalf(entry.name(), floats.values())));
          continue;
        }
        GptqPacking packed;
        try {
          packed = GptqPacking.of((UniformPayload) tensor.payload(), tensor.rows(), tensor.cols(),
              format);
        } catch (IllegalArgumentException e) {
          throw new FileContentException("cannot export " + entry.name() + " of " + artifact.file()
              + " to GPTQ: " + e.getMessage(), e);
        }
        String base = layerName(entry.name());
        writer.write(base + ".qweight", SafetensorsWriter.i32(packed.qweight()));
        writer.write(base + ".qzeros", SafetensorsWriter.i32(packed.qzeros()));
        writer.write(base + ".scales", SafetensorsWriter.f16(packed.scales()));
        writer.write(base + ".g_idx", SafetensorsWriter.i32(packed.gIdx()));
        quantized++;
      }
      writer.finish();
    }
    return quantized;
  }

  /** "model.layers.0.mlp.up_proj.weight" → "model.layers.0.mlp.up_proj". */
  private static String layerName(String weightName) {
    return weightName.substring(0, weightName.length() - WEIGHT_SUFFIX.length());
  }

  /**
   * float32 → float16 bit patterns, rounding to nearest even; a finite value beyond float16's
   * range (possible in a bfloat16 model) is refused rather than exported as infinity.
   */
  static short[] toHalf(String name, float[] values) throws FileContentException {
    short[] halves = new short[values.length];
    for (int i = 0; i < values.length; i++) {
      halves[i] = Float16.toFloat16(values[i]);
      if (Float.isFinite(values[i]) && !Float.isFinite(Float16.toFloat(halves[i]))) {
        throw new FileContentException(name + " holds " + values[i] + " at index " + i
            + ", beyond the float16 range GPTQ checkpoints store float tensors in");
      }
    }
    return halves;
  }

  private static ObjectNode quantizationConfig(ArtifactReader.Entry scheme, GptqFormat format,
      boolean quantizedHead, ArtifactMetadata metadata) {
    ObjectNode config = JSON.createObjectNode();
    config.put("quant_method", "gptq");
    config.put("bits", scheme.bits());
    config.put("group_size", scheme.groupSize() == UniformPayload.PER_CHANNEL ? -1 : scheme.groupSize());
    config.put("desc_act", false);
    config.put("sym", false);
    config.put("static_groups", false);
    config.put("true_sequential", true);
    config.put("lm_head", quantizedHead);
    config.put("checkpoint_format", format.checkpointFormat());
    config.put("model_file_base_name", "model");
    ObjectNode meta = config.putObject("meta");
    meta.put("quantizer", "calibra");
    meta.put("method", metadata.recipe().path("method").asText("unknown"));
    return config;
  }

  private static ObjectNode modelConfig(ArtifactMetadata metadata, ObjectNode quantization,
      boolean quantizedHead) {
    ObjectNode config = metadata.modelConfig().deepCopy();
    // Scales are float16 and GPTQ kernels compute in it; loaders cast the model to this type.
    config.put("torch_dtype", "float16");
    if (config.has("dtype")) {
      config.put("dtype", "float16");
    }
    if (quantizedHead) {
      // A quantized lm_head is its own tensor: tying it to the float embedding would drop it.
      config.put("tie_word_embeddings", false);
    }
    config.set("quantization_config", quantization);
    return config;
  }

  private static void writeJson(FileLocation file, ObjectNode json) throws IOException {
    try (OutputStream out = file.fileSystem().create(file.path(), false)) {
      out.write(JSON.writeValueAsBytes(json));
    }
  }
}
