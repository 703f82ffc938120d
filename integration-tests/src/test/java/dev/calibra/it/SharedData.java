package dev.calibra.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Finds ../shared (the models and reference data) and reads its JSON files. */
final class SharedData {

  private SharedData() {}

  static Path root() {
    String property = System.getProperty("calibra.shared");
    if (property != null && Files.isDirectory(Path.of(property, "models"))) {
      return Path.of(property).normalize();
    }
    for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
      Path candidate = dir.resolve("shared");
      if (Files.isDirectory(candidate.resolve("models"))) {
        return candidate;
      }
    }
    throw new IllegalStateException("cannot find the shared folder with models/; set -Dcalibra.shared");
  }

  static Path model(String name) {
    return root().resolve("models").resolve(name);
  }

  static JsonNode json(Path file) {
    try {
      return new ObjectMapper().readTree(file.toFile());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static int[] ints(JsonNode array) {
    int[] values = new int[array.size()];
    for (int i = 0; i < values.length; i++) {
      values[i] = array.get(i).asInt();
    }
    return values;
  }
}
