package dev.calibra.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Writes an entry's results as pretty-printed JSON to {@code <results dir>/<entry>.json}. The
 * directory is {@code bench/results} of the checkout, as passed by {@code bench/run} in the
 * system property {@code calibra.bench.results}.
 */
public final class ResultFile {

  private static final ObjectMapper JSON =
      new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  private ResultFile() {}

  /** Serialises {@code results} (records, maps, lists) and returns the file written. */
  public static Path write(String entry, Object results) throws IOException {
    Path directory = Path.of(System.getProperty("calibra.bench.results", "bench/results"));
    Files.createDirectories(directory);
    Path file = directory.resolve(entry + ".json");
    JSON.writeValue(file.toFile(), results);
    return file;
  }
}
