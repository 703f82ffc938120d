package dev.calibra.kernels.cuda;

import static jcuda.driver.JCudaDriver.cuLaunchKernel;

import java.util.ArrayList;
import java.util.List;
import jcuda.NativePointerObject;
import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;

/**
 * One kernel launch: grid, block, shared memory and the arguments in the order of the kernel's
 * C signature. Built by {@link CudaBackend#kernel} and sent with {@link #run()}.
 */
final class KernelLaunch {

  /** Threads per block of the elementwise and row kernels. */
  static final int THREADS = 256;

  private final String name;
  private final CudaBackend backend;
  private final List<NativePointerObject> arguments = new ArrayList<>();
  private final int[] grid = {1, 1, 1};
  private final int[] block = {1, 1, 1};
  private int sharedBytes;

  KernelLaunch(String name, CudaBackend backend) {
    this.name = name;
    this.backend = backend;
  }

  String name() {
    return name;
  }

  KernelLaunch grid(int x, int y, int z) {
    grid[0] = x;
    grid[1] = y;
    grid[2] = z;
    return this;
  }

  /** A grid-stride grid for {@code work} items: enough blocks to fill the GPU a few times over. */
  KernelLaunch gridFor(long work) {
    long blocks = (work + THREADS - 1) / THREADS;
    int limit = backend.device().multiprocessors() * 16;
    return grid((int) Math.max(1, Math.min(blocks, limit)), 1, 1).block(THREADS, 1, 1);
  }

  /** Blocks in the grid: how many partial results a kernel that writes one per block leaves. */
  int blocks() {
    return grid[0] * grid[1] * grid[2];
  }

  KernelLaunch block(int x, int y, int z) {
    block[0] = x;
    block[1] = y;
    block[2] = z;
    return this;
  }

  KernelLaunch sharedBytes(int bytes) {
    sharedBytes = bytes;
    return this;
  }

  /**
   * A tensor the kernel may read and write (the safe default): a pending clear happens first, and
   * its packed copies go stale.
   */
  KernelLaunch arg(CudaTensor tensor) {
    backend.clearIfPending(tensor);
    tensor.written();
    return arg(tensor.pointer());
  }

  /** A tensor the kernel only reads. */
  KernelLaunch input(CudaTensor tensor) {
    backend.clearIfPending(tensor);
    return arg(tensor.pointer());
  }

  /** A tensor the kernel overwrites completely without reading it: a pending clear is dropped. */
  KernelLaunch output(CudaTensor tensor) {
    tensor.setZeroPending(false);
    tensor.written();
    return arg(tensor.pointer());
  }

  KernelLaunch arg(DeviceBlock memory) {
    return arg(memory.pointer);
  }

  KernelLaunch arg(CUdeviceptr pointer) {
    arguments.add(Pointer.to(pointer));
    return this;
  }

  /** A null pointer argument, for the kernels' optional inputs. */
  KernelLaunch nullArg() {
    return arg(new CUdeviceptr());
  }

  /** Optional scratch memory: null becomes a null pointer. */
  KernelLaunch argOrNull(DeviceBlock memory) {
    return memory == null ? nullArg() : arg(memory);
  }

  /** An optional tensor the kernel only reads: null becomes a null pointer. */
  KernelLaunch inputOrNull(CudaTensor tensor) {
    return tensor == null ? nullArg() : input(tensor);
  }

  /** An optional tensor the kernel overwrites completely. */
  KernelLaunch outputOrNull(CudaTensor tensor) {
    return tensor == null ? nullArg() : output(tensor);
  }

  /** An optional tensor the kernel reads and writes. */
  KernelLaunch argOrNull(CudaTensor tensor) {
    return tensor == null ? nullArg() : arg(tensor);
  }

  KernelLaunch arg(int value) {
    arguments.add(Pointer.to(new int[] {value}));
    return this;
  }

  KernelLaunch arg(long value) {
    arguments.add(Pointer.to(new long[] {value}));
    return this;
  }

  KernelLaunch arg(double value) {
    arguments.add(Pointer.to(new double[] {value}));
    return this;
  }

  KernelLaunch arg(float value) {
    arguments.add(Pointer.to(new float[] {value}));
    return this;
  }

  /** A struct of ints passed by value (the kernels' Shape). */
  KernelLaunch struct(int... fields) {
    arguments.add(Pointer.to(fields.clone()));
    return this;
  }

  void run() {
    KernelModules kernels = backend.kernels();
    var function = kernels.function(name);
    if (sharedBytes > 48 * 1024) {
      kernels.allowSharedMemory(name, function, sharedBytes);
    }
    var start = backend.beforeLaunch();
    CudaException.check(cuLaunchKernel(function, grid[0], grid[1], grid[2], block[0], block[1],
        block[2], sharedBytes, backend.stream(), Pointer.to(arguments.toArray(new NativePointerObject[0])),
        null), "launching " + name);
    backend.afterLaunch(name, start);
  }
}
