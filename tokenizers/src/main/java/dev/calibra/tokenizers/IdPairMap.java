package dev.calibra.tokenizers;

import java.util.Arrays;

/**
 * A map from pairs of non-negative ids to non-negative ints, without boxing: BPE looks up the
 * merge rank of neighbouring tokens millions of times on a long text. (HashMap with Long keys
 * is slow here: Long's hash of left << 32 | right is left ^ right, which collides badly.)
 */
final class IdPairMap {

  private static final long EMPTY = -1;

  private long[] keys;
  private int[] values;
  private int size;

  IdPairMap(int expectedSize) {
    int capacity = Integer.highestOneBit(Math.max(4, expectedSize * 2 - 1)) << 1;
    keys = new long[capacity];
    values = new int[capacity];
    Arrays.fill(keys, EMPTY);
  }

  /** Sets the value of a pair, replacing any earlier one. */
  void put(int left, int right, int value) {
    if (2 * (size + 1) > keys.length) {
      grow();
    }
    long key = key(left, right);
    int slot = slot(key);
    while (keys[slot] != EMPTY && keys[slot] != key) {
      slot = (slot + 1) & (keys.length - 1);
    }
    if (keys[slot] == EMPTY) {
      keys[slot] = key;
      size++;
    }
    values[slot] = value;
  }

  /** The value of a pair, or -1. */
  int get(int left, int right) {
    long key = key(left, right);
    for (int slot = slot(key); keys[slot] != EMPTY; slot = (slot + 1) & (keys.length - 1)) {
      if (keys[slot] == key) {
        return values[slot];
      }
    }
    return -1;
  }

  private void grow() {
    long[] oldKeys = keys;
    int[] oldValues = values;
    keys = new long[oldKeys.length * 2];
    values = new int[oldKeys.length * 2];
    Arrays.fill(keys, EMPTY);
    size = 0;
    for (int i = 0; i < oldKeys.length; i++) {
      if (oldKeys[i] != EMPTY) {
        put((int) (oldKeys[i] >>> 32), (int) oldKeys[i], oldValues[i]);
      }
    }
  }

  private int slot(long key) {
    // The finalizer of MurmurHash3: every key bit affects every slot bit.
    long h = key;
    h = (h ^ (h >>> 33)) * 0xFF51AFD7ED558CCDL;
    h = (h ^ (h >>> 33)) * 0xC4CEB9FE1A85EC53L;
    h ^= h >>> 33;
    return (int) h & (keys.length - 1);
  }

  private static long key(int left, int right) {
    return (long) left << 32 | right;
  }
}
