package dev.calibra.it;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Arguments of a short calibration job on stories260K (5 blocks, 8 samples, one epoch per
 * window, one end-to-end pass) that the Spark job tests share: small enough for a few seconds a
 * run, real enough to go through every stage. {@link #RECIPE_ARGS} is what a single-machine
 * calibration must match.
 */
final class StoriesJobArgs {

  static final String[] RECIPE_ARGS = {"--bits", "3", "--group", "32", "--epochs", "1",
      "--batch-size", "2", "--e2e-epochs", "1"};
  static final int SAMPLES = 8;

  private StoriesJobArgs() {}

  /** The job's arguments writing into {@code directory}, then {@code extra}. */
  static String[] of(Path directory, String... extra) {
    Path model = SharedData.model("stories260K");
    String sequences = model.resolve("sequences.json").toString();
    List<String> args = new ArrayList<>(List.of("--model", model.toString(),
        "--calib-tokens", sequences + "#calibration", "--calib-samples", Integer.toString(SAMPLES),
        "--eval-tokens", sequences + "#evaluation", "--backend", "cpu",
        "--output", directory.resolve("model.arrow").toString(),
        "--work-dir", directory.resolve("work").toString(),
        "--summary", directory.resolve("summary.json").toString()));
    args.addAll(Arrays.asList(RECIPE_ARGS));
    args.addAll(Arrays.asList(extra));
    return args.toArray(String[]::new);
  }

  /** {@code calibra calibrate} with {@link #of}'s arguments, for {@link CliRun}. */
  static String[] calibrateCommand(Path directory, String... extra) {
    List<String> command = new ArrayList<>(List.of("calibrate"));
    command.addAll(Arrays.asList(of(directory, extra)));
    return command.toArray(String[]::new);
  }
}
