package dev.calibra.jobs.artifact;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.calibra.model.eval.Perplexity;
import dev.calibra.storage.artifact.ArtifactMetadata;
import java.util.List;
import java.util.Map;

/**
 * The calibra.metrics entry of an artifact: the perplexity the run measured on the model it
 * wrote (the number {@code calibra evaluate} reproduces from the artifact alone), the float
 * perplexity when measured, and each layer's relative weight error.
 */
public final class RunMetrics {

  /** Keys evaluate reads back. */
  public static final String PERPLEXITY = "perplexity";
  public static final String QUANTIZED = "quantized";
  public static final String EVALUATION = "evaluation";

  private static final ObjectMapper JSON = new ObjectMapper();

  private RunMetrics() {}

  /**
   * @param floatPerplexity null when the float model was not evaluated
   * @param layers rows of block, layer, relative_error
   */
  public static ObjectNode of(Perplexity quantized, Double floatPerplexity, String evaluation,
      int windows, int context, List<Map<String, Object>> layers) {
    ObjectNode metrics = ArtifactMetadata.emptyObject();
    ObjectNode perplexity = metrics.putObject(PERPLEXITY);
    perplexity.put(QUANTIZED, quantized.value());
    perplexity.put("mean_nll", quantized.meanNll());
    perplexity.put("predictions", quantized.predictions());
    if (floatPerplexity != null) {
      perplexity.put("float", floatPerplexity);
    }
    perplexity.put(EVALUATION, evaluation);
    perplexity.put("windows", windows);
    perplexity.put("context", context);
    metrics.set("layers", JSON.valueToTree(layers));
    return metrics;
  }
}
