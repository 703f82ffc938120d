package dev.calibra.partitioning;

import java.io.Serializable;

/**
 * Consecutive decoder blocks {@code first..last}, both included. An empty range has
 * {@code last = first − 1} (a shard with no warm-up blocks, for instance).
 */
public record BlockRange(int first, int last) implements Serializable {

  private static final long serialVersionUID = 1L;

  /** The range of no blocks, as plans report an absent warm-up or carried range. */
  public static final BlockRange NONE = new BlockRange(0, -1);

  public BlockRange {
    if (first < 0 || last < first - 1) {
      throw new IllegalArgumentException("not a block range: " + first + ".." + last);
    }
  }

  /** Blocks in the range, 0 when empty. (No isEmpty(): Jackson would write it as a property.) */
  public int count() {
    return last - first + 1;
  }

  /** The blocks both ranges hold, or {@link #NONE}. */
  public BlockRange intersect(BlockRange other) {
    int from = Math.max(first, other.first);
    int to = Math.min(last, other.last);
    return to < from ? NONE : new BlockRange(from, to);
  }

  /** "3–7", "3" for a single block, "–" when empty: the form plan tables print. */
  public String label() {
    if (count() == 0) {
      return "–";
    }
    return first == last ? Integer.toString(first) : first + "–" + last;
  }

  @Override
  public String toString() {
    return count() == 0 ? "[]" : "[" + first + "," + last + "]";
  }
}
