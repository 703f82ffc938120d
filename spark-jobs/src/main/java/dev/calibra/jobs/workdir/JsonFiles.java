package dev.calibra.jobs.workdir;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.calibra.storage.AtomicCommit;
import dev.calibra.storage.FileLocation;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;

/** The work directory's small JSON files (job, plan, reports, progress), written atomically. */
public final class JsonFiles {

  /** Shared and thread-safe once configured; records' fields in snake_case like all our JSON. */
  public static final ObjectMapper JSON = new ObjectMapper()
      .setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
      .enable(SerializationFeature.INDENT_OUTPUT);

  private JsonFiles() {}

  /** Writes {@code value} (a record, map or tree) as JSON; replaces an existing file. */
  public static void write(FileLocation target, Object value) throws IOException {
    byte[] bytes = JSON.writeValueAsBytes(value);
    try (AtomicCommit commit = AtomicCommit.start(target, true)) {
      FileLocation temporary = commit.temporary();
      try (OutputStream out = temporary.fileSystem().create(temporary.path(), false)) {
        out.write(bytes);
      }
      commit.commit();
    }
  }

  public static <T> T read(FileLocation source, Class<T> type) throws IOException {
    try (InputStream in = AtomicCommit.withoutChecksumFiles(source).open()) {
      return JSON.readValue(in, type);
    }
  }
}
