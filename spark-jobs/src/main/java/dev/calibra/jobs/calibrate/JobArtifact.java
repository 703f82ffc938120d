package dev.calibra.jobs.calibrate;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.calibra.calibration.cbq.CbqCalibrator;
import dev.calibra.calibration.cbq.CbqRecipe;
import dev.calibra.calibration.uniform.QuantizationScheme;
import dev.calibra.jobs.artifact.ModelConfigJson;
import dev.calibra.jobs.workdir.JsonFiles;
import dev.calibra.model.llama.Linear;
import dev.calibra.partitioning.Schedule;
import dev.calibra.partitioning.Shard;
import dev.calibra.storage.artifact.ArtifactMetadata;
import dev.calibra.storage.artifact.TokenizerReference;
import dev.calibra.storage.hf.ModelDirectory;
import java.io.IOException;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * The artifact metadata of a Spark job's part files and artifact. Its provenance names the tool
 * and versions but no time and no host, so that the same job gives the same bytes whenever and
 * wherever it runs, a restarted or retried one included; the job's summary file records when,
 * where and how long.
 */
public final class JobArtifact {

  static final String TOOL = "calibra calibrate (Spark job)";

  private JobArtifact() {}

  /**
   * The artifact's {@code calibra.recipe}: the keys every artifact has (method, bits, group
   * size, layers, grid, rounding) and all that decides a CBQ result: the full recipe, the
   * calibration data and the schedule; in the parallel schedule also where the shards start,
   * since each shard's first blocks are calibrated from float inputs. A mixed recipe adds its
   * VQ part ({@code vqJson}, see {@link JobSpec#vqToJson}) as {@code vq}, as calibra quantize does.
   */
  public static ObjectNode recipe(CbqRecipe recipe, String vqJson, Schedule schedule,
      List<Shard> shards, int samples, int seqLen, long samplesChecksum) throws IOException {
    ObjectNode node = ArtifactMetadata.emptyObject();
    node.put("method", "cbq");
    node.put("bits", recipe.scheme().bits());
    node.put("group_size", recipe.scheme().groupSize() == QuantizationScheme.PER_CHANNEL ? -1
        : recipe.scheme().groupSize());
    node.put("quantize_lm_head", false);
    ArrayNode layers = node.putArray("quantized_layers");
    for (Linear linear : Linear.values()) {
      layers.add(linear.hfName());
    }
    node.put("grid", "asymmetric: per (row, group) range widened to include 0"
        + (recipe.learnClipping() ? " and narrowed by learned clip factors" : "")
        + ", 2^bits - 1 steps");
    node.put("rounding", recipe.loraRank() > 0 ? "learned (LoRA-Rounding)" : "to nearest");
    node.set("cbq", JsonFiles.JSON.readTree(JobSpec.recipeToJson(recipe)));
    if (vqJson != null) {
      node.set("vq", JsonFiles.JSON.readTree(vqJson));
    }
    ObjectNode data = node.putObject("calibration_data");
    data.put("samples", samples);
    data.put("seq_len", seqLen);
    data.put("crc32c", samplesChecksum);
    node.put("schedule", schedule.name().toLowerCase(Locale.ROOT));
    if (schedule == Schedule.PARALLEL) {
      ArrayNode starts = node.putArray("shard_first_blocks");
      shards.forEach(s -> starts.add(s.ownedBlocks().first()));
    }
    return node;
  }

  /** The metadata every part of the job carries: model config, tokenizer, recipe, provenance. */
  static ArtifactMetadata metadata(ModelDirectory model, JobSpec spec) throws IOException {
    ObjectNode config = ModelConfigJson.read(model,
        CbqCalibrator.modelToCalibrate(model.weights(), spec.recipe()).config());
    return new ArtifactMetadata(config, TokenizerReference.describe(model.location()),
        spec.artifactRecipe(), ArtifactMetadata.emptyObject(), provenance(), Optional.empty());
  }

  /** Tool and versions only: nothing that differs between two runs of one job. */
  static ObjectNode provenance() {
    ObjectNode provenance = ArtifactMetadata.emptyObject();
    provenance.put("tool", TOOL);
    provenance.put("calibra_version", version(JobArtifact.class));
    provenance.put("arrow_version", version(org.apache.arrow.vector.VectorSchemaRoot.class));
    provenance.put("java", System.getProperty("java.specification.version"));
    return provenance;
  }

  /** A jar's Implementation-Version, or "development" when run from classes without one. */
  private static String version(Class<?> type) {
    String version = type.getPackage().getImplementationVersion();
    return version == null ? "development" : version;
  }
}
