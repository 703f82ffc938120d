package dev.calibra.jobs.spark;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.calibra.jobs.workdir.JsonFiles;
import dev.calibra.jobs.workdir.WorkDirectory;
import dev.calibra.partitioning.Schedule;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

/**
 * What makes two runs the same job: the model, the calibration data (by checksum), the recipe
 * and the schedule. The first run writes it to the work directory; a later run over the same
 * directory must match it, since it will reuse the activations and shards found there.
 */
final class JobIdentity {

  private JobIdentity() {}

  static ObjectNode of(String model, CalibrationSamples samples, String recipeJson,
      Schedule schedule) throws IOException {
    ObjectNode identity = JsonFiles.JSON.createObjectNode();
    identity.put("model", model);
    ObjectNode data = identity.putObject("calibration");
    data.put("samples", samples.samples().size());
    data.put("seq_len", samples.seqLen());
    data.put("crc32c", samples.checksum());
    identity.set("recipe", JsonFiles.JSON.readTree(recipeJson));
    identity.put("schedule", schedule.name().toLowerCase(java.util.Locale.ROOT));
    return identity;
  }

  /**
   * Records the identity in a new work directory, or checks it against the one there.
   *
   * @return whether the directory already held this job
   * @throws IllegalStateException naming what differs when it held another job
   */
  static boolean claim(WorkDirectory work, ObjectNode identity) throws IOException {
    if (!work.jobFile().exists()) {
      JsonFiles.write(work.jobFile(), identity);
      return false;
    }
    JsonNode recorded = JsonFiles.read(work.jobFile(), JsonNode.class);
    // Through text and back, as the recorded one went: numbers then have the same node types.
    JsonNode current = JsonFiles.JSON.readTree(JsonFiles.JSON.writeValueAsString(identity));
    if (!recorded.equals(current)) {
      throw new IllegalStateException("the work directory " + work + " belongs to another job ("
          + String.join(", ", differences(recorded, current)) + " differ); use another "
          + "--work-dir, or delete it to start over");
    }
    return true;
  }

  private static List<String> differences(JsonNode recorded, JsonNode identity) {
    List<String> keys = new ArrayList<>();
    for (Iterator<String> names = identity.fieldNames(); names.hasNext(); ) {
      String name = names.next();
      if (!identity.get(name).equals(recorded.get(name))) {
        keys.add(name);
      }
    }
    return keys;
  }
}
