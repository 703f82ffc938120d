package dev.calibra.kernels.cuda;

import static jcuda.driver.JCudaDriver.cuCtxSetCurrent;
import static jcuda.driver.JCudaDriver.cuDeviceGet;
import static jcuda.driver.JCudaDriver.cuDeviceGetCount;
import static jcuda.driver.JCudaDriver.cuDevicePrimaryCtxRetain;

import java.util.HashMap;
import java.util.Map;
import jcuda.driver.CUcontext;
import jcuda.driver.CUdevice;

/**
 * The CUDA context of one device: the device's primary context with the kernel modules loaded,
 * made once per JVM and shared by every {@link CudaBackend} on that device (the tasks of a Spark
 * executor share it; each backend brings its own stream and memory pool). It lives as long as
 * the JVM.
 */
public final class CudaContext {

  private static final Map<Integer, CudaContext> OPEN = new HashMap<>();

  private final DeviceFacts device;
  private final CUcontext context;
  private final KernelModules kernels;

  private CudaContext(int ordinal) {
    CudaDevices.requireUsable();
    int[] count = {0};
    CudaException.check(cuDeviceGetCount(count), "cuDeviceGetCount");
    if (ordinal >= count[0]) {
      throw new CudaException("no CUDA device " + ordinal + ": the driver shows " + count[0]);
    }
    CUdevice handle = new CUdevice();
    CudaException.check(cuDeviceGet(handle, ordinal), "cuDeviceGet(" + ordinal + ")");
    device = DeviceFacts.read(handle, ordinal);
    if (device.computeMajor() < 8) {
      throw new CudaException(device.describe() + " is older than compute capability 8.0, which "
          + "the bf16 tensor-core kernels need");
    }
    context = new CUcontext();
    CudaException.check(cuDevicePrimaryCtxRetain(context, handle), "cuDevicePrimaryCtxRetain");
    makeCurrent();
    kernels = KernelModules.load(device);
  }

  /** The context of device {@code ordinal}, created on first use. */
  public static synchronized CudaContext of(int ordinal) {
    CudaContext context = OPEN.get(ordinal);
    if (context == null) {
      context = new CudaContext(ordinal);
      OPEN.put(ordinal, context);
    }
    return context;
  }

  /**
   * Binds the context to the calling thread. Every backend op calls this first, since the thread
   * that runs a task (or a test) is not the one that created the context.
   */
  void makeCurrent() {
    CudaException.check(cuCtxSetCurrent(context), "cuCtxSetCurrent");
  }

  public DeviceFacts device() {
    return device;
  }

  KernelModules kernels() {
    return kernels;
  }
}
