package dev.calibra.kernels.cuda;

import static jcuda.driver.JCudaDriver.cuDeviceGetAttribute;
import static jcuda.driver.JCudaDriver.cuDeviceGetName;
import static jcuda.driver.JCudaDriver.cuDeviceTotalMem;

import java.nio.charset.StandardCharsets;
import java.util.Locale;
import jcuda.driver.CUdevice;
import jcuda.driver.CUdevice_attribute;

/** What the kernels and the reports need to know about one GPU. */
public record DeviceFacts(int ordinal, String name, int computeMajor, int computeMinor,
    int multiprocessors, long totalMemoryBytes, int maxSharedMemoryPerBlock) {

  static DeviceFacts read(CUdevice device, int ordinal) {
    byte[] name = new byte[256];
    CudaException.check(cuDeviceGetName(name, name.length, device), "cuDeviceGetName");
    int length = 0;
    while (length < name.length && name[length] != 0) {
      length++;
    }
    long[] memory = {0};
    CudaException.check(cuDeviceTotalMem(memory, device), "cuDeviceTotalMem");
    return new DeviceFacts(ordinal, new String(name, 0, length, StandardCharsets.UTF_8),
        attribute(device, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR),
        attribute(device, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR),
        attribute(device, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT), memory[0],
        attribute(device, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN));
  }

  private static int attribute(CUdevice device, int attribute) {
    int[] value = {0};
    CudaException.check(cuDeviceGetAttribute(value, attribute, device), "cuDeviceGetAttribute");
    return value[0];
  }

  /** Whether Hopper-only instructions (wgmma) can run: exactly compute capability 9.0. */
  public boolean isHopper() {
    return computeMajor == 9 && computeMinor == 0;
  }

  /** e.g. "NVIDIA H100 80GB HBM3 (cuda:0, sm_90, 132 SMs, 79.1 GiB)". */
  public String describe() {
    return String.format(Locale.ROOT, "%s (cuda:%d, sm_%d%d, %d SMs, %.1f GiB)", name, ordinal,
        computeMajor, computeMinor, multiprocessors, totalMemoryBytes / (double) (1L << 30));
  }
}
