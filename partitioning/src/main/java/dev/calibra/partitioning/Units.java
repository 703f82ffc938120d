package dev.calibra.partitioning;

import java.util.Locale;

/** How plans print sizes, durations and rates for people. */
final class Units {

  private static final double KIB = 1024;
  private static final double MIB = KIB * 1024;
  private static final double GIB = MIB * 1024;
  private static final double TIB = GIB * 1024;

  private Units() {}

  /** Binary units, three significant digits: "812 KiB", "771.9 MiB", "45.3 GiB". */
  static String bytes(long bytes) {
    if (bytes < KIB) {
      return bytes + " B";
    }
    if (bytes < MIB) {
      return scaled(bytes / KIB, "KiB");
    }
    if (bytes < GIB) {
      return scaled(bytes / MIB, "MiB");
    }
    if (bytes < TIB) {
      return scaled(bytes / GIB, "GiB");
    }
    return scaled(bytes / TIB, "TiB");
  }

  private static String scaled(double value, String unit) {
    return String.format(Locale.ROOT, value < 100 ? "%.1f %s" : "%.0f %s", value, unit);
  }

  /** "850 ms", "42.0 s", "17 min 30 s", "4 h 05 min". */
  static String duration(double seconds) {
    if (seconds < 1) {
      return String.format(Locale.ROOT, "%.0f ms", seconds * 1000);
    }
    if (seconds < 60) {
      return String.format(Locale.ROOT, "%.1f s", seconds);
    }
    long whole = Math.round(seconds);
    if (whole < 3600) {
      return String.format(Locale.ROOT, "%d min %02d s", whole / 60, whole % 60);
    }
    long minutes = Math.round(seconds / 60);
    return String.format(Locale.ROOT, "%d h %02d min", minutes / 60, minutes % 60);
  }

  /** "3.2e+15 FLOP". */
  static String flops(double flops) {
    return String.format(Locale.ROOT, "%.2e FLOP", flops);
  }

  /** "25.0 TFLOP/s", "200 GFLOP/s". */
  static String rate(double flopsPerSecond) {
    if (flopsPerSecond >= 1e12) {
      return String.format(Locale.ROOT, "%.1f TFLOP/s", flopsPerSecond / 1e12);
    }
    return String.format(Locale.ROOT, "%.1f GFLOP/s", flopsPerSecond / 1e9);
  }

  /** "10%", "2.5%". */
  static String percent(double fraction) {
    double p = fraction * 100;
    return p == Math.rint(p) ? String.format(Locale.ROOT, "%.0f%%", p)
        : String.format(Locale.ROOT, "%.1f%%", p);
  }
}
