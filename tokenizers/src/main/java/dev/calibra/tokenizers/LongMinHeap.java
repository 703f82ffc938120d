package dev.calibra.tokenizers;

import java.util.Arrays;

/**
 * A binary min-heap of longs. The BPE merge loops pack each candidate merge's priority and
 * position into one long, so that the millions of candidates of a long text cost no objects.
 */
final class LongMinHeap {

  private long[] heap = new long[64];
  private int size;

  boolean isEmpty() {
    return size == 0;
  }

  void push(long value) {
    if (size == heap.length) {
      heap = Arrays.copyOf(heap, size * 2);
    }
    int child = size++;
    while (child > 0) {
      int parent = (child - 1) >>> 1;
      if (heap[parent] <= value) {
        break;
      }
      heap[child] = heap[parent];
      child = parent;
    }
    heap[child] = value;
  }

  long pop() {
    if (size == 0) {
      throw new IllegalStateException("empty heap");
    }
    long smallest = heap[0];
    long last = heap[--size];
    int parent = 0;
    while (true) {
      int child = 2 * parent + 1;
      if (child >= size) {
        break;
      }
      if (child + 1 < size && heap[child + 1] < heap[child]) {
        child++;
      }
      if (last <= heap[child]) {
        break;
      }
      heap[parent] = heap[child];
      parent = child;
    }
    heap[parent] = last;
    return smallest;
  }
}
