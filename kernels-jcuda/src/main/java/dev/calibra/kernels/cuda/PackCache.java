package dev.calibra.kernels.cuda;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Iterator;
import java.util.function.Consumer;

/**
 * The last few bf16 copies that the tensor-core kernels packed from fp32 tensors, reused while
 * their tensor is unchanged: in a decoder block the normalised input feeds the q, k and v
 * products, and the same activations come back, transposed, for three weight gradients.
 *
 * <p>A copy is valid for the tensor's {@linkplain CudaTensor#version() version}, which every
 * launch that is given the tensor as a possible output advances (see {@link KernelLaunch#arg});
 * so a new op can make a copy stale but never let a stale one through. Eight copies at most, the
 * least recently used given back to the pool first.
 */
final class PackCache {

  private static final int CAPACITY = 8;

  private record Entry(CudaTensor tensor, String layout, int version, DeviceBlock block) {}

  private final CudaBackend backend;
  private final Deque<Entry> entries = new ArrayDeque<>();  // most recently used first

  PackCache(CudaBackend backend) {
    this.backend = backend;
  }

  /**
   * The packed copy of {@code tensor} in {@code layout} (a name that fixes its shape), made with
   * {@code pack} into a fresh block of {@code bytes} when there is no valid one. The cache owns the
   * block: the caller must not release it.
   */
  DeviceBlock get(CudaTensor tensor, String layout, long bytes, Consumer<DeviceBlock> pack) {
    DeviceBlock hit = find(tensor, layout);
    if (hit != null) {
      return hit;
    }
    DeviceBlock block = backend.scratch(bytes);
    pack.accept(block);
    put(tensor, layout, block);
    return block;
  }

  /** The valid copy of {@code tensor} in {@code layout}, or null; the cache keeps owning it. */
  DeviceBlock find(CudaTensor tensor, String layout) {
    Entry hit = null;
    for (Iterator<Entry> it = entries.iterator(); it.hasNext(); ) {
      Entry e = it.next();
      boolean same = e.tensor() == tensor && e.layout().equals(layout);
      if (same && e.version() == tensor.version() && !tensor.isClosed()) {
        hit = e;
        it.remove();
      } else if (same || e.tensor().isClosed()) {
        it.remove();
        backend.release(e.block());
      }
    }
    if (hit == null) {
      return null;
    }
    entries.addFirst(hit);
    return hit.block();
  }

  /**
   * Hands the cache a copy of {@code tensor} in {@code layout} that a kernel has just written
   * beside the tensor's current contents (a producer op writing the GEMM operand as it goes).
   */
  void put(CudaTensor tensor, String layout, DeviceBlock block) {
    for (Iterator<Entry> it = entries.iterator(); it.hasNext(); ) {
      Entry e = it.next();
      if (e.tensor() == tensor && e.layout().equals(layout)) {
        it.remove();
        backend.release(e.block());
      }
    }
    if (entries.size() == CAPACITY) {
      backend.release(entries.removeLast().block());
    }
    entries.addFirst(new Entry(tensor, layout, tensor.version(), block));
  }
}
