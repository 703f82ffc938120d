package dev.calibra.storage;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;

/**
 * Finds the project's read-only shared folder: the {@code calibra.shared} system property that
 * Surefire sets, or else a {@code shared/models} found walking up from the working directory
 * (tests started from an IDE).
 */
public final class SharedData {

  private SharedData() {
  }

  public static Path root() {
    String property = System.getProperty("calibra.shared");
    if (property != null && Files.isDirectory(Paths.get(property, "models"))) {
      return Paths.get(property).toAbsolutePath().normalize();
    }
    for (Path dir = Paths.get("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
      Path candidate = dir.resolve("shared");
      if (Files.isDirectory(candidate.resolve("models"))) {
        return candidate;
      }
    }
    throw new IllegalStateException("shared folder not found: set -Dcalibra.shared or run "
        + "from inside the project next to shared/");
  }

  public static Path model(String name) {
    return root().resolve("models").resolve(name);
  }
}
