package dev.calibra.partitioning;

import java.util.Locale;

/** How plans print sizes, durations, counts and rates for people. */
final class Units {

  private static final double KIB = 1024;
  private static final double MIB = KIB * 1024;
  private static final double GIB = MIB * 1024;
  private static final double TIB = GIB * 1024;
  private static final String[] SI_PREFIXES = {" ", " k", " M", " G", " T", " P", " E"};
  private static final String[] COUNT_PREFIXES = {"", " k", " M", " B"};

  private Units() {}

  /** Binary units: "812 B", "1.9 KiB", "772 MiB", "45.3 GiB". */
  static String bytes(long bytes) {
    if (bytes < KIB) {
      return bytes + " B";
    }
    if (bytes < MIB) {
      return binary(bytes / KIB, "KiB");
    }
    if (bytes < GIB) {
      return binary(bytes / MIB, "MiB");
    }
    if (bytes < TIB) {
      return binary(bytes / GIB, "GiB");
    }
    return binary(bytes / TIB, "TiB");
  }

  private static String binary(double value, String unit) {
    return String.format(Locale.ROOT, value < 99.95 ? "%.1f %s" : "%.0f %s", value, unit);
  }

  /** "850 ms", "42.0 s", "17 min 30 s", "4 h 05 min". */
  static String duration(double seconds) {
    if (seconds < 1) {
      return String.format(Locale.ROOT, "%.0f ms", seconds * 1000);
    }
    if (seconds < 59.95) {
      return String.format(Locale.ROOT, "%.1f s", seconds);
    }
    long whole = Math.round(seconds);
    if (whole < 3600) {
      return String.format(Locale.ROOT, "%d min %02d s", whole / 60, whole % 60);
    }
    long minutes = Math.round(seconds / 60);
    return String.format(Locale.ROOT, "%d h %02d min", minutes / 60, minutes % 60);
  }

  /** "7.14 PFLOP". */
  static String flops(double flops) {
    return decimal(flops, SI_PREFIXES, "FLOP");
  }

  /** "25.0 TFLOP/s", "200 GFLOP/s". */
  static String rate(double flopsPerSecond) {
    return decimal(flopsPerSecond, SI_PREFIXES, "FLOP/s");
  }

  /** "6.74 B parameters", "2.74 k parameters". */
  static String parameters(long count) {
    return decimal(count, COUNT_PREFIXES, " parameters");
  }

  /** Three significant digits under the largest decimal prefix that keeps the value ≥ 1. */
  private static String decimal(double value, String[] prefixes, String unit) {
    int p = 0;
    while (value >= 999.5 && p < prefixes.length - 1) {
      value /= 1000;
      p++;
    }
    String digits = value >= 99.95 ? "%.0f" : value >= 9.995 ? "%.1f" : "%.2f";
    return String.format(Locale.ROOT, digits + "%s%s", value, prefixes[p], unit);
  }

  /** "10%", "2.5%". */
  static String percent(double fraction) {
    double p = fraction * 100;
    return p == Math.rint(p) ? String.format(Locale.ROOT, "%.0f%%", p)
        : String.format(Locale.ROOT, "%.1f%%", p);
  }
}
