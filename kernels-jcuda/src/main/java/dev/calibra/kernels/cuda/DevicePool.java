package dev.calibra.kernels.cuda;

import static jcuda.driver.JCudaDriver.cuMemAlloc;
import static jcuda.driver.JCudaDriver.cuMemFree;

import java.util.ArrayDeque;
import java.util.Collections;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.Set;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUresult;

/**
 * A caching allocator over cuMemAlloc for one stream: released blocks go to a free list of their
 * size bucket and are handed out again, so that a training loop allocates from the driver only
 * in its first step. Reuse is safe without events because every kernel that touches a block runs
 * on the pool's one stream, in order: a later kernel on the block starts after earlier ones end.
 *
 * <p>Buckets: multiples of 512 bytes up to 1 MiB, then 8 steps per power of two (at most 12.5%
 * waste). When the driver runs out of memory the pool frees its cached blocks and tries again,
 * then asks the garbage collector for tensors nobody closed (see {@link CudaTensor}).
 */
final class DevicePool implements AutoCloseable {

  private static final long SMALL_STEP = 512;
  private static final long SMALL_LIMIT = 1L << 20;

  private final Runnable synchronizeStream;
  private final Map<Long, ArrayDeque<CUdeviceptr>> free = new HashMap<>();
  private final Set<CUdeviceptr> owned = Collections.newSetFromMap(new IdentityHashMap<>());
  private long driverAllocations;
  private long reuses;
  private long bytesInUse;
  private long peakBytesInUse;
  private long bytesCached;
  private boolean closed;

  /** @param synchronizeStream waits for the pool's stream: memory is freed only when idle */
  DevicePool(Runnable synchronizeStream) {
    this.synchronizeStream = synchronizeStream;
  }

  static long bucket(long bytes) {
    if (bytes <= SMALL_LIMIT) {
      return Math.max(SMALL_STEP, (bytes + SMALL_STEP - 1) / SMALL_STEP * SMALL_STEP);
    }
    long step = Long.highestOneBit(bytes - 1) / 8;
    return (bytes + step - 1) / step * step;
  }

  DeviceBlock allocate(long bytes) {
    long size = bucket(bytes);
    DeviceBlock block = tryAllocate(size);
    if (block == null) {
      // Tensors that were dropped without close() hold memory until their cleaners run.
      System.gc();
      try {
        Thread.sleep(100);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      block = tryAllocate(size);
    }
    if (block == null) {
      throw new CudaException("out of GPU memory allocating " + size + " bytes; pool: " + stats());
    }
    return block;
  }

  private synchronized DeviceBlock tryAllocate(long size) {
    if (closed) {
      throw new IllegalStateException("the CUDA backend was closed");
    }
    ArrayDeque<CUdeviceptr> list = free.get(size);
    CUdeviceptr pointer = list == null ? null : list.poll();
    if (pointer != null) {
      reuses++;
      bytesCached -= size;
    } else {
      pointer = driverAllocate(size);
      if (pointer == null) {
        trim();
        pointer = driverAllocate(size);
      }
      if (pointer == null) {
        return null;
      }
    }
    bytesInUse += size;
    peakBytesInUse = Math.max(peakBytesInUse, bytesInUse);
    return new DeviceBlock(pointer, size);
  }

  private CUdeviceptr driverAllocate(long size) {
    CUdeviceptr pointer = new CUdeviceptr();
    int result = cuMemAlloc(pointer, size);
    if (result == CUresult.CUDA_ERROR_OUT_OF_MEMORY) {
      return null;
    }
    CudaException.check(result, "cuMemAlloc(" + size + ")");
    driverAllocations++;
    owned.add(pointer);
    return pointer;
  }

  /** Returns a block for reuse by later work on the stream. Ignored once the pool is closed. */
  synchronized void release(DeviceBlock block) {
    if (closed) {
      return;
    }
    free.computeIfAbsent(block.bytes, size -> new ArrayDeque<>()).push(block.pointer);
    bytesInUse -= block.bytes;
    bytesCached += block.bytes;
  }

  /** Gives the cached blocks back to the driver. */
  private void trim() {
    synchronizeStream.run();
    for (ArrayDeque<CUdeviceptr> list : free.values()) {
      for (CUdeviceptr pointer : list) {
        CudaException.check(cuMemFree(pointer), "cuMemFree");
        owned.remove(pointer);
      }
    }
    free.clear();
    bytesCached = 0;
  }

  synchronized PoolStats stats() {
    return new PoolStats(driverAllocations, reuses, bytesInUse, peakBytesInUse, bytesCached);
  }

  /** Frees every block, in use or not: the backend's tensors are invalid afterwards. */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    synchronizeStream.run();
    for (CUdeviceptr pointer : owned) {
      CudaException.check(cuMemFree(pointer), "cuMemFree");
    }
    owned.clear();
    free.clear();
    closed = true;
  }
}
