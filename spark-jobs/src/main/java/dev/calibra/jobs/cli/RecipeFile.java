package dev.calibra.jobs.cli;

import dev.calibra.storage.FileLocation;
import java.io.IOException;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import org.apache.hadoop.conf.Configuration;

/**
 * A recipe file ({@code --recipe FILE}): how to quantize, kept apart from what (model, data,
 * output), so that one file serves {@code calibra quantize}, {@code calibra calibrate},
 * spark-submit, Airflow and notebooks alike. Java properties syntax ({@code key = value}, {@code
 * #} comments); each key is a recipe option of the command line without its leading "--", and a
 * flag takes {@code true} or {@code false}. The file's options come before the command line's,
 * so an option also given on the command line overrides the file.
 */
final class RecipeFile {

  static final String OPTION = "--recipe";
  static final String[] HELP = {"FILE", "recipe file: method, bits, group and the method's "
      + "settings as key = value lines, e.g. recipes/cbq-w4g32.properties; options given on "
      + "the command line override it (local path, file:// or hdfs://)"};

  /** The options a recipe may set: the method and what decides its result, nothing about data. */
  private static final Set<String> RECIPE_KEYS = Set.of("method", "bits", "group",
      "quantize-lm-head", "epochs", "batch-size", "lora-rank", "window", "overlap", "kl-weight",
      "logit-loss", "e2e-epochs", "e2e-weights", "no-lwc", "no-cfp", "rotate", "act-bits", "seed", "vq",
      "vq-candidates");
  /** A recipe file is a few lines: anything larger is the wrong file. */
  private static final long MAX_BYTES = 1 << 16;

  private RecipeFile() {}

  /**
   * {@code args} with every {@code --recipe FILE} taken out and the file's options put first;
   * {@code options} are the command's (name → [placeholder, help]), which the file's keys must
   * be among.
   *
   * @throws IllegalArgumentException naming the file and the key at fault
   */
  static String[] expand(String[] args, Map<String, String[]> options) {
    List<String> fromFiles = new ArrayList<>();
    List<String> rest = new ArrayList<>();
    for (int i = 0; i < args.length; i++) {
      if (args[i].startsWith(OPTION + "=")) {
        fromFiles.addAll(read(args[i].substring(OPTION.length() + 1), options));
      } else if (args[i].equals(OPTION)) {
        if (i + 1 >= args.length) {
          throw new IllegalArgumentException(OPTION + " needs a value: FILE");
        }
        fromFiles.addAll(read(args[++i], options));
      } else {
        rest.add(args[i]);
      }
    }
    fromFiles.addAll(rest);
    return fromFiles.toArray(String[]::new);
  }

  /** The file's settings as command-line options. */
  private static List<String> read(String file, Map<String, String[]> options) {
    Properties properties = new Properties();
    try {
      byte[] bytes = FileLocation.of(file, new Configuration()).readAllBytes(MAX_BYTES);
      properties.load(new StringReader(new String(bytes, StandardCharsets.UTF_8)));
    } catch (IOException | IllegalArgumentException e) {
      throw new IllegalArgumentException("cannot read the recipe " + file + ": " + e.getMessage(),
          e);
    }
    requireMethodOf(file, properties.getProperty("method"), options.get("--method"));
    List<String> arguments = new ArrayList<>();
    for (String key : new TreeSet<>(properties.stringPropertyNames())) {
      String option = "--" + key;
      if (!RECIPE_KEYS.contains(key) || !options.containsKey(option)) {
        throw new IllegalArgumentException("the recipe " + file + " sets '" + key + "', which is "
            + "not a recipe setting of this command (recipe settings: "
            + String.join(", ", new TreeSet<>(RECIPE_KEYS)) + ")");
      }
      String value = properties.getProperty(key).trim();
      if (!options.get(option)[0].isEmpty()) {
        arguments.add(option);
        arguments.add(value);
      } else if (flag(file, key, value)) {
        arguments.add(option);
      }
    }
    return arguments;
  }

  /**
   * Checked before the other keys, since a recipe of another method may well have keys this
   * command lacks, and the method is what to tell the user about.
   *
   * @param methodHelp the command's --method entry: [methods separated by |, help]
   */
  private static void requireMethodOf(String file, String method, String[] methodHelp) {
    if (method == null) {
      throw new IllegalArgumentException("the recipe " + file + " names no method: add a line "
          + "'method = rtn' or 'method = cbq'");
    }
    List<String> methods = List.of(methodHelp[0].split("\\|"));
    if (!methods.contains(method.trim().toLowerCase(Locale.ROOT))) {
      throw new IllegalArgumentException("the recipe " + file + " is for method '" + method.trim()
          + "', which this command does not run (--method: " + methodHelp[1] + ")");
    }
  }

  private static boolean flag(String file, String key, String value) {
    return switch (value.toLowerCase(Locale.ROOT)) {
      case "true" -> true;
      case "false" -> false;
      default -> throw new IllegalArgumentException("the recipe " + file + " sets the flag '"
          + key + "' to '" + value + "': a flag is true or false");
    };
  }
}
