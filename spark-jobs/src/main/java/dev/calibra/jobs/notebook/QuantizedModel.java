package dev.calibra.jobs.notebook;

import com.fasterxml.jackson.databind.JsonNode;
import dev.calibra.storage.FileLocation;
import dev.calibra.storage.artifact.ArtifactMetadata;
import dev.calibra.storage.artifact.ArtifactReader;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.apache.hadoop.conf.Configuration;

/**
 * A quantized model as a notebook shows it: where its artifact is, the recipe recorded in it,
 * the perplexities its run measured and each layer's relative weight error.
 *
 * @param floatPerplexity NaN when the run did not evaluate the float model
 */
public record QuantizedModel(String artifact, long bytes, String recipe, double perplexity,
    double floatPerplexity, List<LayerError> layers) {

  /** ‖W − Ŵ‖² / ‖W‖² of one linear layer. */
  public record LayerError(int block, String layer, double relativeError) {}

  /**
   * Reads the artifact's recipe, layer errors and, where its run recorded them, perplexities
   * (NaN where not: a Spark job measures them after writing the artifact, in its summary).
   */
  static QuantizedModel read(String artifact) throws IOException {
    FileLocation location = FileLocation.of(artifact, new Configuration());
    try (ArtifactReader reader = ArtifactReader.open(location)) {
      ArtifactMetadata metadata = reader.metadata();
      List<LayerError> layers = new ArrayList<>();
      for (JsonNode layer : metadata.metrics().path("layers")) {
        layers.add(new LayerError(layer.path("block").asInt(), layer.path("layer").asText(),
            layer.path("relative_error").asDouble()));
      }
      JsonNode perplexity = metadata.metrics().path("perplexity");
      return new QuantizedModel(artifact, location.length(), label(metadata.recipe()),
          perplexity.path("quantized").asDouble(Double.NaN),
          perplexity.path("float").asDouble(Double.NaN), List.copyOf(layers));
    }
  }

  /** The same model with the perplexities a run measured apart from the artifact. */
  QuantizedModel withPerplexities(double quantized, double floats) {
    return new QuantizedModel(artifact, bytes, recipe, quantized, floats, layers);
  }

  /** The relative error of the layer {@code layer} of block {@code block}; NaN if absent. */
  public double relativeError(int block, String layer) {
    return layers.stream().filter(e -> e.block() == block && e.layer().equals(layer))
        .mapToDouble(LayerError::relativeError).findFirst().orElse(Double.NaN);
  }

  /** One line for a notebook's echo of the value, instead of every layer's error. */
  @Override
  public String toString() {
    return String.format(Locale.ROOT, "%s: perplexity %.4f (float %.4f), %d layers, %s",
        recipe, perplexity, floatPerplexity, layers.size(), artifact);
  }

  /** "cbq w4 g32", "rtn w3 per-channel": the recipe's method and weight scheme. */
  private static String label(JsonNode recipe) {
    int group = recipe.path("group_size").asInt();
    return recipe.path("method").asText() + " w" + recipe.path("bits").asInt() + " "
        + (group == -1 ? "per-channel" : "g" + group);
  }
}
