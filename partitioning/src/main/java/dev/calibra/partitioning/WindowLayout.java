package dev.calibra.partitioning;

import java.util.ArrayList;
import java.util.List;

/**
 * Cuts a model's blocks into CBQ windows.
 *
 * <p>Window k starts at block k·(w − o) and holds w blocks, so consecutive windows share exactly
 * o blocks. Windows are added until one reaches the last block; that last window is clamped to
 * the model's end (it is never shifted back, which would change its overlap), so it may hold fewer
 * than w blocks but always more than o, i.e. at least one block no earlier window trained. A
 * model of at most w blocks is one window holding the whole model.
 *
 * <pre>
 *   5 blocks, w=2 o=1 → [0,1] [1,2] [2,3] [3,4]
 *   6 blocks, w=3 o=1 → [0,2] [2,4] [4,5]        (last window clamped to 2 blocks)
 *   7 blocks, w=3 o=0 → [0,2] [3,5] [6,6]
 *   1 block,  w=2 o=1 → [0,0]
 * </pre>
 *
 * Window sizes therefore never grow along the model: every window but the last has
 * min(w, blocks) blocks.
 */
public final class WindowLayout {

  private WindowLayout() {}

  /** The windows of a model of {@code blocks} blocks, in order. */
  public static List<WindowSpan> of(int blocks, int windowSize, int overlap) {
    if (blocks < 1) {
      throw new IllegalArgumentException("a model needs at least one block, got " + blocks);
    }
    if (windowSize < 1 || overlap < 0 || overlap >= windowSize) {
      throw new IllegalArgumentException("windows of " + windowSize + " blocks cannot overlap by "
          + overlap + " (need 0 ≤ overlap < window size)");
    }
    int stride = windowSize - overlap;
    List<WindowSpan> windows = new ArrayList<>();
    for (int start = 0; ; start += stride) {
      int end = Math.min(start + windowSize - 1, blocks - 1);
      windows.add(new WindowSpan(windows.size(), new BlockRange(start, end)));
      if (end == blocks - 1) {
        return List.copyOf(windows);
      }
    }
  }
}
