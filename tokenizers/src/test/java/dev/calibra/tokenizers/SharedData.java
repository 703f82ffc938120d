package dev.calibra.tokenizers;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The project's read-only shared folder (models, data, reference tokenizations): the
 * {@code calibra.shared} system property that Surefire sets, else the nearest {@code shared}
 * folder with a {@code models} subfolder found walking up from the working directory.
 */
final class SharedData {

  private SharedData() {}

  static Path root() {
    String property = System.getProperty("calibra.shared");
    if (property != null && Files.isDirectory(Path.of(property, "models"))) {
      return Path.of(property).toAbsolutePath().normalize();
    }
    for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
      Path candidate = dir.resolve("shared");
      if (Files.isDirectory(candidate.resolve("models"))) {
        return candidate;
      }
    }
    return fail("no shared folder: set -Dcalibra.shared or run below a folder holding shared/");
  }

  static Path path(String relative) {
    return root().resolve(relative);
  }

  static Path llama2TokenizerModel() {
    return path("tokenizers/llama2/tokenizer.model");
  }

  static String readText(String relative) {
    try {
      return Files.readString(path(relative));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
