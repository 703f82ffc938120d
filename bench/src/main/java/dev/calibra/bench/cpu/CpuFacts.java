package dev.calibra.bench.cpu;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What /proc/cpuinfo says about the processor this JVM runs on (the first logical CPU's entry;
 * the clock is averaged over all of them). Fields are empty or 0 where the file is missing, as
 * off Linux.
 */
public record CpuFacts(String modelName, String vendor, int family, int model,
    Set<String> flags, int logicalCpus, int threadsPerCore, double averageMhz) {

  private static final Path CPUINFO = Path.of("/proc/cpuinfo");

  public static CpuFacts read() throws IOException {
    if (!Files.isReadable(CPUINFO)) {
      return new CpuFacts("", "", 0, 0, Set.of(), Runtime.getRuntime().availableProcessors(), 1,
          0);
    }
    return parse(Files.readAllLines(CPUINFO));
  }

  static CpuFacts parse(List<String> lines) {
    Map<String, String> first = new HashMap<>();
    double mhzSum = 0;
    int mhzCount = 0;
    int processors = 0;
    for (String line : lines) {
      int colon = line.indexOf(':');
      if (colon < 0) {
        continue;
      }
      String key = line.substring(0, colon).trim();
      String value = line.substring(colon + 1).trim();
      if (key.equals("processor")) {
        processors++;
      } else if (key.equals("cpu MHz")) {
        mhzSum += Double.parseDouble(value);
        mhzCount++;
      }
      first.putIfAbsent(key, value);
    }
    int cores = Integer.parseInt(first.getOrDefault("cpu cores", "1"));
    int siblings = Integer.parseInt(first.getOrDefault("siblings", String.valueOf(cores)));
    return new CpuFacts(
        first.getOrDefault("model name", ""),
        first.getOrDefault("vendor_id", ""),
        Integer.parseInt(first.getOrDefault("cpu family", "0")),
        Integer.parseInt(first.getOrDefault("model", "0")),
        Set.of(first.getOrDefault("flags", "").split("\\s+")),
        processors,
        Math.max(1, siblings / Math.max(1, cores)),
        mhzCount == 0 ? 0 : mhzSum / mhzCount);
  }

  public boolean has(String flag) {
    return flags.contains(flag);
  }
}
