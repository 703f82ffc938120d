package dev.calibra.calibration.cbq;

import dev.calibra.storage.tokens.TokenIdFiles;
import java.nio.file.Path;
import java.util.List;

/** The shared models folder (../shared, or -Dcalibra.shared) and stories260K's splits. */
public final class SharedModels {

  private SharedModels() {}

  public static Path model(String name) {
    return Path.of(System.getProperty("calibra.shared", "../../shared"), "models", name);
  }

  public static List<int[]> stories(String split) throws Exception {
    return TokenIdFiles.read(model("stories260K").resolve("sequences.json").toString(), split);
  }
}
