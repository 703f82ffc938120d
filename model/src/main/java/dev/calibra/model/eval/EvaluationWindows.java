package dev.calibra.model.eval;

import java.util.ArrayList;
import java.util.List;

/**
 * Cuts token streams into the windows perplexity is measured on. A window of context length L
 * holds L+1 tokens, L inputs and L predictions; window j of a stream starts at token j·L, so
 * consecutive windows share one token and every token is predicted exactly once.
 */
public final class EvaluationWindows {

  private EvaluationWindows() {}

  /**
   * The first {@code maxWindows} full windows of a concatenated stream (all of them when
   * maxWindows ≤ 0); a shorter tail is dropped, as in the standard protocol.
   */
  public static List<int[]> ofStream(int[] tokens, int contextLength, int maxWindows) {
    requireContext(contextLength);
    List<int[]> windows = new ArrayList<>();
    for (int start = 0; start + contextLength < tokens.length; start += contextLength) {
      if (maxWindows > 0 && windows.size() == maxWindows) {
        break;
      }
      int[] window = new int[contextLength + 1];
      System.arraycopy(tokens, start, window, 0, contextLength + 1);
      windows.add(window);
    }
    if (windows.isEmpty()) {
      throw new IllegalArgumentException("a stream of " + tokens.length
          + " tokens is too short for one window of " + contextLength + " predictions");
    }
    if (maxWindows > 0 && windows.size() < maxWindows) {
      throw new IllegalArgumentException("asked for " + maxWindows + " windows of "
          + contextLength + " but the text holds only " + windows.size());
    }
    return windows;
  }

  /**
   * Independent sequences (such as sampled stories), each evaluated on its own: a sequence that
   * fits the context is one window; a longer one is cut like a stream, keeping its tail.
   */
  public static List<int[]> ofSequences(List<int[]> sequences, int contextLength) {
    requireContext(contextLength);
    List<int[]> windows = new ArrayList<>();
    for (int[] sequence : sequences) {
      for (int start = 0; start + 1 < sequence.length; start += contextLength) {
        int end = Math.min(sequence.length, start + contextLength + 1);
        int[] window = new int[end - start];
        System.arraycopy(sequence, start, window, 0, window.length);
        windows.add(window);
      }
    }
    if (windows.isEmpty()) {
      throw new IllegalArgumentException("no sequence has two or more tokens");
    }
    return windows;
  }

  private static void requireContext(int contextLength) {
    if (contextLength <= 0) {
      throw new IllegalArgumentException("context length must be positive, got " + contextLength);
    }
  }
}
