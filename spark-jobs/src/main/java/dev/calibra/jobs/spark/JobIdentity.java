package dev.calibra.jobs.spark;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.calibra.jobs.workdir.JsonFiles;
import dev.calibra.jobs.workdir.WorkDirectory;
import dev.calibra.partitioning.Schedule;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.zip.CRC32C;

/**
 * What makes two runs the same job: the model, the calibration data (by checksum), the recipe
 * (with a mixed recipe's VQ part) and the schedule. The first run writes it to the work
 * directory; a later run over the same directory must match it, since it will reuse the
 * activations and shards found there.
 */
final class JobIdentity {

  private JobIdentity() {}

  /** {@code vqJson}: a mixed recipe's VQ part, or null when every layer is uniform. */
  static ObjectNode of(String model, List<int[]> samples, String recipeJson, String vqJson,
      Schedule schedule) throws IOException {
    ObjectNode identity = JsonFiles.JSON.createObjectNode();
    identity.put("model", model);
    ObjectNode data = identity.putObject("calibration");
    data.put("samples", samples.size());
    data.put("seq_len", samples.get(0).length);
    data.put("crc32c", checksum(samples));
    identity.set("recipe", JsonFiles.JSON.readTree(recipeJson));
    if (vqJson != null) {
      // Absent, not null, for uniform jobs: their work directories from before VQ stay theirs.
      identity.set("vq", JsonFiles.JSON.readTree(vqJson));
    }
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

  /** CRC32C of every id in order, little-endian int32s: what identifies the calibration data. */
  static long checksum(List<int[]> samples) {
    CRC32C crc = new CRC32C();
    for (int[] sample : samples) {
      ByteBuffer bytes = ByteBuffer.allocate(4 * sample.length).order(ByteOrder.LITTLE_ENDIAN);
      bytes.asIntBuffer().put(sample);
      crc.update(bytes);
    }
    return crc.getValue();
  }

  /** The keys either side has and the other has not, or has with another value. */
  private static List<String> differences(JsonNode recorded, JsonNode identity) {
    Set<String> names = new LinkedHashSet<>();
    identity.fieldNames().forEachRemaining(names::add);
    recorded.fieldNames().forEachRemaining(names::add);
    List<String> keys = new ArrayList<>();
    for (String name : names) {
      if (!Objects.equals(identity.get(name), recorded.get(name))) {
        keys.add(name);
      }
    }
    return keys;
  }
}
