package dev.calibra.bench.quality;

import dev.calibra.bench.SharedModelData;
import java.io.IOException;
import java.util.Arrays;
import java.util.stream.Collectors;

/** Which text a quality entry calibrates on ({@code --calib-source}). */
enum CalibrationSource {
  /** The model's calibration data, as shared/README.md's protocol says. */
  CALIBRATION("calibration", ""),
  /**
   * Held-out text past the evaluated windows ({@link SharedModelData#withHeldOutCalibration}):
   * a diagnostic outside the shared protocol.
   */
  HELDOUT("heldout", "-heldout-calibration"),
  /**
   * The first windows of the model's calibration text rather than windows spread over all of it
   * ({@link SharedModelData#withFirstWindowsCalibration}), as tables were measured before.
   */
  FIRST_WINDOWS("first-windows", "-first-windows");

  /** How {@code --calib-source} names it. */
  final String option;
  /** What its result entries add to their name: the shared data's tables keep the plain one. */
  private final String entrySuffix;

  CalibrationSource(String option, String entrySuffix) {
    this.option = option;
    this.entrySuffix = entrySuffix;
  }

  static CalibrationSource parse(String value) {
    return Arrays.stream(values()).filter(s -> s.option.equals(value)).findFirst()
        .orElseThrow(() -> new IllegalArgumentException("--calib-source is one of "
            + Arrays.stream(values()).map(s -> s.option).collect(Collectors.joining(", "))
            + ", got '" + value + "'"));
  }

  SharedModelData apply(SharedModelData data) throws IOException {
    return switch (this) {
      case CALIBRATION -> data;
      case HELDOUT -> data.withHeldOutCalibration();
      case FIRST_WINDOWS -> data.withFirstWindowsCalibration();
    };
  }

  String entry(String plain) {
    return plain + entrySuffix;
  }
}
