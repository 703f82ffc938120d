package dev.calibra.jobs.calibrate;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.calibra.calibration.cbq.CbqRecipe;
import dev.calibra.calibration.cbq.LayerQuantizerFactory;
import dev.calibra.calibration.vq.VqRecipe;
import dev.calibra.calibration.vq.VqTraining;
import dev.calibra.jobs.workdir.JsonFiles;
import dev.calibra.jobs.workdir.WorkDirectory;
import dev.calibra.kernels.Backends;
import dev.calibra.partitioning.Schedule;
import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;

/**
 * What every task of a job needs to know, small and Serializable so that Spark ships it with
 * each task: locations (never data), the recipe, the schedule and the backend choice.
 *
 * @param model the model directory (local path, file:// or hdfs:// URI)
 * @param workDirectory where the stages leave their files
 * @param output the artifact the pack stage writes
 * @param recipeJson the CBQ recipe as JSON (records in calibration are not Serializable)
 * @param vqJson a mixed recipe's VQ part as JSON ({@link #vqToJson}), null when every layer is
 *     uniform
 * @param artifactRecipeJson the {@code calibra.recipe} entry every part file carries
 * @param backend auto, cpu or cuda
 */
public record JobSpec(String model, String workDirectory, String output, String recipeJson,
    String vqJson, String artifactRecipeJson, Schedule schedule, Backends.Choice backend)
    implements Serializable {

  private static final long serialVersionUID = 1L;

  public static String recipeToJson(CbqRecipe recipe) {
    try {
      return JsonFiles.JSON.writeValueAsString(recipe);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("a CBQ recipe did not convert to JSON", e);
    }
  }

  /**
   * {"rules": "mlp.*:d4k8", "training": {...}}, as calibra quantize records it in its artifacts;
   * null for null. The rules travel as text: {@link VqRecipe#parse} reads them back.
   */
  public static String vqToJson(VqRecipe vq) {
    if (vq == null) {
      return null;
    }
    ObjectNode node = JsonFiles.JSON.createObjectNode();
    node.put("rules", vq.label());
    node.set("training", JsonFiles.JSON.valueToTree(vq.training()));
    return node.toString();
  }

  /** The quantizers of the recipe's VQ layers; {@link LayerQuantizerFactory#NONE} when uniform. */
  public LayerQuantizerFactory layerQuantizers() {
    if (vqJson == null) {
      return LayerQuantizerFactory.NONE;
    }
    try {
      JsonNode node = JsonFiles.JSON.readTree(vqJson);
      return VqRecipe.parse(node.get("rules").asText()).withTraining(
          JsonFiles.JSON.treeToValue(node.get("training"), VqTraining.class));
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("the job's VQ recipe is not valid JSON: " + vqJson, e);
    }
  }

  public CbqRecipe recipe() {
    try {
      return JsonFiles.JSON.readValue(recipeJson, CbqRecipe.class);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("the job's recipe is not valid JSON: " + recipeJson, e);
    }
  }

  public ObjectNode artifactRecipe() {
    try {
      return (ObjectNode) JsonFiles.JSON.readTree(artifactRecipeJson);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("the job's artifact recipe is not valid JSON", e);
    }
  }

  public WorkDirectory work() {
    try {
      return WorkDirectory.at(workDirectory);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot reach the work directory " + workDirectory, e);
    }
  }
}
