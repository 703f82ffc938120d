package dev.calibra.storage.tokens;

import dev.calibra.storage.FileContentException;
import dev.calibra.storage.FileLocation;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.util.List;
import java.util.Locale;
import org.apache.hadoop.conf.Configuration;

/**
 * Reads pre-tokenized calibration or evaluation data: one int[] of token ids per sequence. The
 * format follows the file name: {@code .jsonl}/{@code .ndjson} (one sequence per line),
 * {@code .json} (an array of sequences, or named splits) or {@code .parquet} (a list column).
 */
public final class TokenIdFiles {

  private TokenIdFiles() {
  }

  /** As {@link #read(String, String, Configuration)} with default Hadoop settings. */
  public static List<int[]> read(String location, String part) throws IOException {
    return read(location, part, new Configuration());
  }

  /**
   * @param location a local path, file:// or hdfs:// URI
   * @param part where in each file the ids are, or null for the default: the split of a JSON
   *     file of named splits (required there), the field of JSONL objects (default input_ids,
   *     token_ids or ids), the column of a Parquet file (default the first list of integers)
   */
  public static List<int[]> read(String location, String part, Configuration hadoopConf)
      throws IOException {
    FileLocation file = FileLocation.of(location, hadoopConf);
    if (!file.exists()) {
      throw new FileNotFoundException("token file " + file + " does not exist");
    }
    String name = file.name().toLowerCase(Locale.ROOT);
    List<int[]> sequences;
    if (name.endsWith(".jsonl") || name.endsWith(".ndjson")) {
      sequences = JsonlTokenIds.read(file, part);
    } else if (name.endsWith(".json")) {
      sequences = JsonTokenIds.read(file, part);
    } else if (name.endsWith(".parquet")) {
      sequences = ParquetTokenIds.read(file, part);
    } else {
      throw new FileContentException(file + ": unknown token file type, expected a name ending "
          + "in .jsonl, .ndjson, .json or .parquet");
    }
    if (sequences.isEmpty()) {
      throw new FileContentException(file + (part == null ? "" : " (" + part + ")")
          + " holds no token sequences, expected at least one");
    }
    return sequences;
  }
}
