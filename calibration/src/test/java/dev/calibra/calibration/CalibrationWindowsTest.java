package dev.calibra.calibration;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class CalibrationWindowsTest {

  /** Token t of the stream is t, so a window shows where it starts. */
  private static final int[] STREAM = IntStream.range(0, 1003).toArray();

  @Test
  void windowsAreSpreadEvenlyFromTheStart() {
    // 1003 tokens hold 100 windows of 10 (the last 3 tokens are left over); 4 of them.
    List<int[]> samples = CalibrationWindows.spread(STREAM, 10, 4);
    assertEquals(4, samples.size());
    int[] expectedStarts = {0, 250, 500, 750};
    for (int i = 0; i < 4; i++) {
      assertArrayEquals(IntStream.range(expectedStarts[i], expectedStarts[i] + 10).toArray(),
          samples.get(i), "sample " + i);
    }
  }

  @Test
  void askingForEveryWindowGivesThemAllInOrder() {
    List<int[]> samples = CalibrationWindows.spread(STREAM, 10, 100);
    for (int i = 0; i < 100; i++) {
      assertEquals(10 * i, samples.get(i)[0], "sample " + i);
    }
  }

  @Test
  void aTextTooShortForTheSamplesIsRefused() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> CalibrationWindows.spread(STREAM, 10, 101));
    assertEquals("the text holds 1003 tokens: 100 windows of 10, fewer than the 101 asked for",
        e.getMessage());
  }
}
