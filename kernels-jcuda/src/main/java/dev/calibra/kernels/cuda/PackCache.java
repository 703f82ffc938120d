package dev.calibra.kernels.cuda;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Iterator;
import java.util.function.Consumer;

/**
 * The bf16 copies that the tensor-core kernels read, packed from fp32 tensors or written by the
 * ops that produced them (RMSNorm, SwiGLU, rotary, attention, weight fake-quantization), reused
 * while their tensor is unchanged: in a decoder block the normalised input feeds the q, k and v
 * products, a gradient's copy for dY·W serves dYᵀ·X, and the copies of the weights and
 * activations made in the forward pass serve the backward pass's products.
 *
 * <p>A copy is valid for the tensor's {@linkplain CudaTensor#version() version}, which every
 * launch that is given the tensor as a possible output advances (see {@link KernelLaunch#arg});
 * so a new op can make a copy stale but never let a stale one through. The least recently used
 * copies are given back to the pool once the cache holds more than a sixteenth of the device's
 * memory, but the last eight always stay (an op may be using several at once). On the H100 a
 * 2-block LLaMA-7B window then keeps its forward copies until the backward pass.
 */
final class PackCache {

  /** Copies kept whatever their size: more than one op uses at once. */
  private static final int MIN_ENTRIES = 8;

  private record Entry(CudaTensor tensor, String layout, int version, DeviceBlock block) {}

  private final CudaBackend backend;
  private final long budgetBytes;
  private final Deque<Entry> entries = new ArrayDeque<>();  // most recently used first
  private long bytes;

  PackCache(CudaBackend backend) {
    this.backend = backend;
    this.budgetBytes = backend.device().totalMemoryBytes() / 16;
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
        release(e);
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
      if ((e.tensor() == tensor && e.layout().equals(layout)) || e.tensor().isClosed()) {
        it.remove();
        release(e);
      }
    }
    entries.addFirst(new Entry(tensor, layout, tensor.version(), block));
    bytes += block.bytes;
    while (entries.size() > MIN_ENTRIES && bytes > budgetBytes) {
      release(entries.removeLast());
    }
  }

  private void release(Entry e) {
    bytes -= e.block().bytes;
    backend.release(e.block());
  }
}
