package dev.calibra.calibration;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Calibration samples cut from a token stream (a calibration text, encoded): {@code count}
 * windows of {@code length} tokens spread evenly over all of the stream's windows, not its first
 * ones. A calibration text is often several sources one after the other; samples from its
 * beginning would see only the first (dict-llama-15M's calibration.txt is dictionary entries
 * W to Z followed by the start of the Jargon File: calibration/CBQ.md, "Which windows of the
 * calibration text").
 */
public final class CalibrationWindows {

  private CalibrationWindows() {}

  /**
   * Window i·n/count of the stream's n whole windows, for i from 0 to count − 1: every window
   * when count is n.
   *
   * @throws IllegalArgumentException when the stream holds fewer than {@code count} windows
   */
  public static List<int[]> spread(int[] tokens, int length, int count) {
    if (length < 1 || count < 1) {
      throw new IllegalArgumentException("asked for " + count + " windows of " + length
          + " tokens");
    }
    int windows = tokens.length / length;
    if (windows < count) {
      throw new IllegalArgumentException("the text holds " + tokens.length + " tokens: "
          + windows + " windows of " + length + ", fewer than the " + count + " asked for");
    }
    List<int[]> samples = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      int start = (int) ((long) i * windows / count) * length;
      samples.add(Arrays.copyOfRange(tokens, start, start + length));
    }
    return samples;
  }
}
