package dev.calibra.jobs.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** What a quantize run measured: printed as a table and written as JSON. */
final class QuantizeReport {

  /** One quantized variant of the model and what it scored. */
  record Row(String method, int bits, String group, int activationBits, double perplexity,
      long predictions, double calibrationSeconds, double seconds, long peakHeapBytes,
      List<Map<String, Object>> layers) {}

  private final Map<String, Object> header = new LinkedHashMap<>();
  private Double floatPerplexity;
  private double floatSeconds;
  private final List<Row> rows = new ArrayList<>();

  void put(String key, Object value) {
    header.put(key, value);
  }

  void floatResult(double perplexity, double seconds) {
    this.floatPerplexity = perplexity;
    this.floatSeconds = seconds;
  }

  void add(Row row) {
    rows.add(row);
  }

  String table() {
    StringBuilder out = new StringBuilder();
    String format = "%-7s %5s %-12s %12s %14s %8s %9s %9s %10s%n";
    out.append(String.format(Locale.ROOT, format, "method", "bits", "group", "FP PPL", "quantized PPL",
        "Δ PPL", "calib s", "time s", "peak MiB"));
    String fp = floatPerplexity == null ? "-" : String.format(Locale.ROOT, "%.3f", floatPerplexity);
    if (floatPerplexity != null) {
      out.append(String.format(Locale.ROOT, format, "float", "32", "-", fp, fp, "-", "-",
          String.format(Locale.ROOT, "%.1f", floatSeconds), "-"));
    }
    for (Row r : rows) {
      String delta = floatPerplexity == null ? "-"
          : String.format(Locale.ROOT, "%+.2f%%", 100 * (r.perplexity() / floatPerplexity - 1));
      String bits = r.activationBits() == 0 ? Integer.toString(r.bits())
          : "w" + r.bits() + "a" + r.activationBits();
      out.append(String.format(Locale.ROOT, format, r.method(), bits, r.group(), fp,
          String.format(Locale.ROOT, "%.3f", r.perplexity()), delta,
          String.format(Locale.ROOT, "%.1f", r.calibrationSeconds()),
          String.format(Locale.ROOT, "%.1f", r.seconds()),
          String.format(Locale.ROOT, "%.0f", r.peakHeapBytes() / 1048576.0)));
    }
    return out.toString();
  }

  void write(Path path) throws IOException {
    Map<String, Object> json = new LinkedHashMap<>(header);
    if (floatPerplexity != null) {
      json.put("float", Map.of("perplexity", floatPerplexity, "seconds", floatSeconds));
    }
    List<Map<String, Object>> results = new ArrayList<>();
    for (Row r : rows) {
      Map<String, Object> entry = new LinkedHashMap<>();
      entry.put("method", r.method());
      entry.put("bits", r.bits());
      entry.put("group", r.group());
      entry.put("activation_bits", r.activationBits());
      entry.put("perplexity", r.perplexity());
      entry.put("predictions", r.predictions());
      entry.put("calibration_seconds", r.calibrationSeconds());
      entry.put("seconds", r.seconds());
      entry.put("peak_heap_bytes", r.peakHeapBytes());
      entry.put("layers", r.layers());
      results.add(entry);
    }
    json.put("results", results);
    Path parent = path.toAbsolutePath().getParent();
    if (parent != null) {
      Files.createDirectories(parent);
    }
    new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(path.toFile(), json);
  }
}
