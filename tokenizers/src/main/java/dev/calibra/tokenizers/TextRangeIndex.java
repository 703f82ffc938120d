package dev.calibra.tokenizers;

import java.util.Map;

/**
 * A string-to-id table that is looked up with a range of a longer string, so that testing
 * whether two neighbouring symbols form a piece costs no substring. BPE does millions of such
 * lookups on a long text.
 */
final class TextRangeIndex {

  private final String[] keys;
  private final int[] ids;
  private final int mask;
  private final int longestKey;

  TextRangeIndex(Map<String, Integer> idsByText) {
    int capacity = Integer.highestOneBit(Math.max(2, idsByText.size() * 2 - 1)) << 1;
    keys = new String[capacity];
    ids = new int[capacity];
    mask = capacity - 1;
    int longest = 0;
    for (Map.Entry<String, Integer> entry : idsByText.entrySet()) {
      String key = entry.getKey();
      int slot = slot(hash(key, 0, key.length()));
      while (keys[slot] != null) {
        slot = (slot + 1) & mask;
      }
      keys[slot] = key;
      ids[slot] = entry.getValue();
      longest = Math.max(longest, key.length());
    }
    longestKey = longest;
  }

  /** The id of {@code text.substring(start, end)}, or -1. */
  int get(String text, int start, int end) {
    int length = end - start;
    if (length > longestKey) {
      return -1;
    }
    for (int slot = slot(hash(text, start, end)); keys[slot] != null; slot = (slot + 1) & mask) {
      String key = keys[slot];
      if (key.length() == length && text.regionMatches(start, key, 0, length)) {
        return ids[slot];
      }
    }
    return -1;
  }

  private int slot(int hash) {
    // Spreads String-style hashes, whose low bits cluster for short keys.
    return (hash * 0x9E3779B9 >>> 7) & mask;
  }

  private static int hash(String text, int start, int end) {
    int hash = 0;
    for (int i = start; i < end; i++) {
      hash = 31 * hash + text.charAt(i);
    }
    return hash;
  }
}
