package dev.calibra.partitioning;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class WindowLayoutTest {

  /** Window size and overlap pairs the invariant tests run over. */
  static final int[][] WINDOW_OVERLAPS = {{1, 0}, {2, 0}, {2, 1}, {3, 0}, {3, 1}, {3, 2}, {4, 1},
      {5, 3}, {8, 7}};

  static Stream<Arguments> blocksAndWindows() {
    return IntStream.rangeClosed(1, 80).boxed().flatMap(blocks ->
        Stream.of(WINDOW_OVERLAPS).map(wo -> Arguments.of(blocks, wo[0], wo[1])));
  }

  private static String text(List<WindowSpan> windows) {
    return windows.toString().replace("], [", "] [").replace("[[", "[").replace("]]", "]");
  }

  @Test
  void documentedExamples() {
    assertEquals("[0,1] [1,2] [2,3] [3,4]", text(WindowLayout.of(5, 2, 1)));
    assertEquals("[0,2] [2,4] [4,5]", text(WindowLayout.of(6, 3, 1)));
    assertEquals("[0,2] [3,5] [6,6]", text(WindowLayout.of(7, 3, 0)));
    assertEquals("[0,0]", text(WindowLayout.of(1, 2, 1)));
  }

  @Test
  void aModelNoLongerThanAWindowIsOneWindow() {
    assertEquals("[0,2]", text(WindowLayout.of(3, 3, 2)));
    assertEquals("[0,2]", text(WindowLayout.of(3, 8, 7)));
  }

  @Test
  void lastWindowIsClampedNotShifted() {
    // 8 blocks, w=4 o=1: stride 3 → [0,3] [3,6] [6,7]; a shifted last window would be [4,7].
    List<WindowSpan> windows = WindowLayout.of(8, 4, 1);
    assertEquals("[0,3] [3,6] [6,7]", text(windows));
    assertEquals(2, windows.get(2).size());
  }

  @ParameterizedTest(name = "{0} blocks, w={1} o={2}")
  @MethodSource("blocksAndWindows")
  void windowsCoverTheModelWithExactOverlap(int blocks, int w, int o) {
    List<WindowSpan> windows = WindowLayout.of(blocks, w, o);
    int stride = w - o;
    int expectedCount = blocks <= w ? 1 : 1 + (blocks - w + stride - 1) / stride;
    assertEquals(expectedCount, windows.size());
    assertEquals(0, windows.get(0).first());
    assertEquals(blocks - 1, windows.get(windows.size() - 1).last());
    for (int k = 0; k < windows.size(); k++) {
      WindowSpan window = windows.get(k);
      assertEquals(k, window.index());
      assertEquals(k * stride, window.first());
      if (k < windows.size() - 1) {
        assertEquals(Math.min(w, blocks), window.size(), "only the last window may be short");
        WindowSpan next = windows.get(k + 1);
        assertEquals(o, window.last() - next.first() + 1, "overlap of windows " + k + " and " + (k + 1));
        assertTrue(next.size() <= window.size(), "window sizes never grow");
      } else {
        assertTrue(window.size() <= w);
        if (k > 0) {
          assertTrue(window.size() > o, "the last window brings at least one new block");
        }
      }
    }
  }

  @Test
  void rejectsImpossibleLayouts() {
    assertThrows(IllegalArgumentException.class, () -> WindowLayout.of(0, 2, 1));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> WindowLayout.of(4, 2, 2));
    assertEquals("windows of 2 blocks cannot overlap by 2 (need 0 ≤ overlap < window size)",
        e.getMessage());
  }
}
