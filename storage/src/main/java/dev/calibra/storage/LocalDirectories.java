package dev.calibra.storage;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/** Local scratch directories: the parts of a run, a benchmark's or a test's working folders. */
public final class LocalDirectories {

  private LocalDirectories() {}

  /** Deletes {@code directory} and everything below it; nothing happens when it is absent. */
  public static void deleteRecursively(Path directory) throws IOException {
    if (!Files.exists(directory)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(directory)) {
      // Deepest first, so that every directory is empty when its turn comes.
      for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(path);
      }
    }
  }
}
