package dev.calibra.kernels.cuda;

import dev.calibra.model.backend.Tensor;
import java.lang.ref.Cleaner;
import jcuda.driver.CUdeviceptr;

/**
 * A row-major float32 matrix in GPU memory, taken from its backend's {@link DevicePool}.
 *
 * <p>{@link #close()} gives the memory back to the pool at once; code on the hot path (the
 * decoder block, the calibration loop) closes what it no longer needs, so GPU memory does not
 * wait for the Java garbage collector, which knows nothing of it. A tensor dropped without close()
 * is returned when the collector finds it unreachable: a safety net, not the plan.
 */
public final class CudaTensor implements Tensor {

  private static final Cleaner CLEANER = Cleaner.create();

  private final int rows;
  private final int cols;
  private final Allocation allocation;
  private final Cleaner.Cleanable cleanable;
  private int version;
  private boolean zeroPending;

  /** Holds no reference to the tensor, so that the cleaner can run when the tensor is gone. */
  private static final class Allocation implements Runnable {
    final DevicePool pool;
    final DeviceBlock block;
    volatile boolean released;

    Allocation(DevicePool pool, DeviceBlock block) {
      this.pool = pool;
      this.block = block;
    }

    @Override
    public void run() {
      released = true;
      pool.release(block);
    }
  }

  CudaTensor(int rows, int cols, DevicePool pool) {
    if (rows < 0 || cols < 0) {
      throw new IllegalArgumentException("negative shape " + rows + "×" + cols);
    }
    this.rows = rows;
    this.cols = cols;
    this.allocation = new Allocation(pool, pool.allocate(Math.max(1, (long) rows * cols) * Float.BYTES));
    this.cleanable = CLEANER.register(this, allocation);
  }

  @Override
  public int rows() {
    return rows;
  }

  @Override
  public int cols() {
    return cols;
  }

  /** Returns the memory to the pool; using the tensor afterwards throws. Idempotent. */
  @Override
  public void close() {
    cleanable.clean();
  }

  /**
   * A tensor made by {@link CudaBackend#zeros} is cleared only when something reads it before
   * overwriting it: most are outputs, which a kernel fills completely, and clearing them would
   * cost a pass over memory each.
   */
  boolean zeroPending() {
    return zeroPending;
  }

  void setZeroPending(boolean pending) {
    zeroPending = pending;
  }

  /** Advanced whenever an op may have written the tensor; see {@link PackCache}. */
  int version() {
    return version;
  }

  void written() {
    version++;
  }

  boolean isClosed() {
    return allocation.released;
  }

  CUdeviceptr pointer() {
    if (allocation.released) {
      throw new IllegalStateException("tensor " + shapeText() + " was used after close()");
    }
    return allocation.block.pointer;
  }

  boolean belongsTo(DevicePool pool) {
    return allocation.pool == pool;
  }

  long bytes() {
    return size() * Float.BYTES;
  }

  @Override
  public String toString() {
    return "CudaTensor[" + shapeText() + (allocation.released ? ", closed]" : "]");
  }
}
