package dev.calibra.jobs.artifact;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.calibra.calibration.QuantizedBlock;
import dev.calibra.calibration.uniform.QuantizationScheme;
import dev.calibra.calibration.uniform.UniformQuantizer;
import dev.calibra.model.backend.Backend;
import dev.calibra.model.cpu.CpuBackend;
import dev.calibra.model.llama.Linear;
import dev.calibra.model.llama.LlamaConfig;
import dev.calibra.model.llama.LlamaWeightSource;
import dev.calibra.storage.FileLocation;
import dev.calibra.storage.LocalDirectories;
import dev.calibra.storage.artifact.ArtifactMerger;
import dev.calibra.storage.artifact.ArtifactMetadata;
import dev.calibra.storage.artifact.ArtifactTensor;
import dev.calibra.storage.artifact.ArtifactWriter;
import dev.calibra.storage.artifact.PartRange;
import dev.calibra.storage.artifact.TokenizerReference;
import dev.calibra.storage.hf.HfTensorNames;
import dev.calibra.storage.hf.ModelDirectory;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.apache.hadoop.conf.Configuration;

/**
 * Records a quantization run into an artifact while the run evaluates it: each quantized block
 * is appended to a part file as it is handed out, and once the run's perplexity is known the
 * parts (blocks, then the tensors outside blocks) are merged into the artifact with the metrics
 * in its metadata. This is the single-process case of the part-file flow a Spark job uses with
 * one part per shard. Parts live in a local temporary directory that closing removes.
 */
public final class QuantizedRunRecorder implements AutoCloseable {

  private static final ObjectMapper JSON = new ObjectMapper();

  private final LlamaWeightSource weights;
  private final QuantizationScheme scheme;
  private final boolean quantizeLmHead;
  private final FileLocation target;
  private final boolean overwrite;
  private final ArtifactMetadata metadata;
  private final Path partsDirectory;
  private final ArtifactWriter blocks;
  private final Backend backend;
  private int nextBlock;

  private QuantizedRunRecorder(LlamaWeightSource weights, QuantizationScheme scheme,
      boolean quantizeLmHead, FileLocation target, boolean overwrite, ArtifactMetadata metadata,
      Path partsDirectory, ArtifactWriter blocks, Backend backend) {
    this.backend = backend;
    this.weights = weights;
    this.scheme = scheme;
    this.quantizeLmHead = quantizeLmHead;
    this.target = target;
    this.overwrite = overwrite;
    this.metadata = metadata;
    this.partsDirectory = partsDirectory;
    this.blocks = blocks;
  }

  /**
   * Prepares to record a run; fails at once, before any work, when the artifact exists and
   * {@code overwrite} is false.
   *
   * @param weights the float model the run quantizes (rotated, when the recipe rotates): the
   *     artifact takes its config and its tensors outside blocks
   * @param recipeDetails recipe entries beyond the scheme's (activation bits, a calibration
   *     recipe), merged into the artifact's recipe; may be empty
   * @param output the artifact: a local path, file:// or hdfs:// URI
   * @param backend the backend the run's blocks live on
   */
  public static QuantizedRunRecorder start(ModelDirectory model, LlamaWeightSource weights,
      String method, QuantizationScheme scheme, boolean quantizeLmHead, ObjectNode recipeDetails,
      String output, boolean overwrite, Backend backend) throws IOException {
    FileLocation target = FileLocation.of(output, new Configuration());
    if (!overwrite && target.exists()) {
      throw new FileAlreadyExistsException("artifact " + target + " already exists; choose another "
          + "--output, delete it, or add --overwrite");
    }
    ObjectNode config = ModelConfigJson.read(model, weights.config());
    ObjectNode recipe = recipe(method, scheme, quantizeLmHead);
    recipe.setAll(recipeDetails);
    ArtifactMetadata metadata = new ArtifactMetadata(config,
        TokenizerReference.describe(model.location()), recipe,
        ArtifactMetadata.emptyObject(), provenance("calibra quantize"), Optional.empty());
    Path parts = Files.createTempDirectory("calibra-parts-");
    try {
      int last = weights.config().numLayers() - 1;
      ArtifactWriter blocks = ArtifactWriter.create(local(parts.resolve("blocks.arrow")),
          metadata.asPart(PartRange.blocks(0, last)), false);
      return new QuantizedRunRecorder(weights, scheme, quantizeLmHead, target, overwrite, metadata,
          parts, blocks, backend);
    } catch (IOException | RuntimeException e) {
      LocalDirectories.deleteRecursively(parts);
      throw e;
    }
  }

  /**
   * Appends a quantized block: its norms and biases float, its linear layers uniform. Norms and
   * biases come from the block as the run used them, since pre-processing may have rescaled them.
   */
  public void accept(QuantizedBlock block) {
    if (block.index() != nextBlock) {
      throw new IllegalStateException("block " + block.index() + " arrived, expected block "
          + nextBlock + ": blocks are recorded in order");
    }
    try {
      for (ArtifactTensor tensor : ArtifactTensors.block(block, backend)) {
        blocks.write(tensor);
      }
      nextBlock++;
    } catch (IOException e) {
      throw new UncheckedIOException("could not record block " + block.index() + " for " + target
          + ": " + e.getMessage(), e);
    }
  }

  /**
   * Writes the tensors outside blocks, merges the parts into the artifact and returns where it
   * is. Every block must have been recorded.
   */
  public FileLocation commit(ObjectNode metrics) throws IOException {
    LlamaConfig config = weights.config();
    if (nextBlock != config.numLayers()) {
      throw new IllegalStateException("only " + nextBlock + " of " + config.numLayers()
          + " blocks were recorded");
    }
    blocks.commit();
    FileLocation outside = local(partsDirectory.resolve("outside-blocks.arrow"));
    try (ArtifactWriter writer = ArtifactWriter.create(outside,
        metadata.asPart(PartRange.OUTSIDE_BLOCKS), false)) {
      ArtifactTensors.outsideBlocks(weights, quantizeLmHead, writer::write);
      if (quantizeLmHead) {
        // The same quantizer on the same weights as the run's lm_head: the same codes.
        CpuBackend cpu = new CpuBackend();
        writer.write(ArtifactTensors.uniform(HfTensorNames.LM_HEAD, ArtifactTensor.NO_BLOCK,
            new UniformQuantizer(scheme).quantize(cpu.download(weights.lmHead(cpu)),
                config.vocabSize(), config.hiddenSize())));
      }
      writer.commit();
    }
    ArtifactMerger.merge(List.of(blocks.target(), outside), target, metrics,
        provenance("calibra quantize"), overwrite);
    return target;
  }

  @Override
  public void close() throws IOException {
    try {
      blocks.close();
    } finally {
      LocalDirectories.deleteRecursively(partsDirectory);
    }
  }

  private static ObjectNode recipe(String method, QuantizationScheme scheme, boolean lmHead) {
    ObjectNode recipe = ArtifactMetadata.emptyObject();
    recipe.put("method", method);
    recipe.put("bits", scheme.bits());
    recipe.put("group_size", scheme.groupSize() == QuantizationScheme.PER_CHANNEL ? -1
        : scheme.groupSize());
    recipe.put("grid", "asymmetric: per (row, group) range widened to include 0, 2^bits - 1 steps");
    recipe.put("rounding", "half to even");
    recipe.put("quantize_lm_head", lmHead);
    recipe.putArray("quantized_layers").addAll(Stream.of(Linear.values())
        .map(l -> JSON.getNodeFactory().textNode(l.hfName())).toList());
    return recipe;
  }

  /** Versions, time and host of this process. */
  public static ObjectNode provenance(String tool) {
    ObjectNode provenance = ArtifactMetadata.emptyObject();
    provenance.put("tool", tool);
    provenance.put("calibra_version", version(QuantizedRunRecorder.class));
    provenance.put("arrow_version", version(org.apache.arrow.vector.VectorSchemaRoot.class));
    provenance.put("java", System.getProperty("java.version"));
    provenance.put("created", Instant.now().toString());
    String host;
    try {
      host = InetAddress.getLocalHost().getHostName();
    } catch (IOException e) {
      host = "unknown";
    }
    provenance.putArray("hosts").add(host);
    return provenance;
  }

  /** A jar's Implementation-Version, or "development" when run from classes without one. */
  private static String version(Class<?> type) {
    String version = type.getPackage().getImplementationVersion();
    return version == null ? "development" : version;
  }

  private static FileLocation local(Path path) throws IOException {
    return FileLocation.of(path.toString(), new Configuration());
  }

}
