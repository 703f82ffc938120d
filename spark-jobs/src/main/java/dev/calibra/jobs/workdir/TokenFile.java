package dev.calibra.jobs.workdir;

import com.fasterxml.jackson.databind.ObjectWriter;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.calibra.storage.AtomicCommit;
import dev.calibra.storage.FileLocation;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Token sequences as JSON Lines (one bare array of ids per line), the form
 * {@code dev.calibra.storage.tokens.TokenIdFiles} reads back: how the driver hands the
 * calibration samples and evaluation windows to its tasks.
 */
public final class TokenFile {

  private static final ObjectWriter LINE =
      JsonFiles.JSON.writer().without(SerializationFeature.INDENT_OUTPUT);

  private TokenFile() {}

  public static void write(FileLocation target, List<int[]> sequences) throws IOException {
    try (AtomicCommit commit = AtomicCommit.start(target, true)) {
      FileLocation temporary = commit.temporary();
      try (Writer out = new BufferedWriter(new OutputStreamWriter(
          temporary.fileSystem().create(temporary.path(), false), StandardCharsets.UTF_8))) {
        for (int[] sequence : sequences) {
          out.write(LINE.writeValueAsString(sequence));
          out.write('\n');
        }
      }
      commit.commit();
    }
  }
}
