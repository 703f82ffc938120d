package dev.calibra.kernels.cuda;

import static jcuda.driver.JCudaDriver.cuFuncSetAttribute;
import static jcuda.driver.JCudaDriver.cuModuleGetFunction;
import static jcuda.driver.JCudaDriver.cuModuleLoadData;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import jcuda.driver.CUfunction;
import jcuda.driver.CUfunction_attribute;
import jcuda.driver.CUmodule;
import jcuda.driver.CUresult;

/**
 * The PTX modules the build put into the jar (toolchain/build-ptx.sh), loaded into one context,
 * and their kernels found by name. A kernel added to any .cu file is found without registering
 * it here. Modules built for compute_90a load only on compute capability 9.0.
 */
final class KernelModules {

  static final String DIRECTORY = "/dev/calibra/kernels/cuda/ptx/";
  static final String INDEX = DIRECTORY + "modules.txt";

  /** A line of the index: the PTX file and the architecture level it was built for. */
  record Listed(String file, String level) {
    boolean hopperOnly() {
      return level.equals("90a");
    }
  }

  private final List<CUmodule> modules = new ArrayList<>();
  private final List<String> names = new ArrayList<>();
  private final Map<String, CUfunction> functions = new HashMap<>();
  private final Map<String, Integer> sharedMemoryAllowed = new HashMap<>();
  private final long loadNanos;

  private KernelModules(DeviceFacts device) {
    long start = System.nanoTime();
    for (Listed listed : listed()) {
      if (listed.hopperOnly() && !device.isHopper()) {
        continue;
      }
      byte[] ptx = read(DIRECTORY + listed.file());
      CUmodule module = new CUmodule();
      // The driver compiles PTX for this GPU here (cached by the driver between runs).
      CudaException.check(cuModuleLoadData(module, Arrays.copyOf(ptx, ptx.length + 1)),
          "loading kernel module " + listed.file() + " on " + device.describe());
      modules.add(module);
      names.add(listed.file());
    }
    loadNanos = System.nanoTime() - start;
  }

  static KernelModules load(DeviceFacts device) {
    return new KernelModules(device);
  }

  /** Whether the jar carries compiled kernels at all. */
  static boolean shipped() {
    return KernelModules.class.getResource(INDEX) != null;
  }

  /** The modules the build listed, in order. */
  static List<Listed> listed() {
    List<Listed> listed = new ArrayList<>();
    for (String line : new String(read(INDEX), StandardCharsets.UTF_8).split("\n")) {
      String[] parts = line.trim().split("\\s+");
      if (parts.length == 2) {
        listed.add(new Listed(parts[0], parts[1]));
      }
    }
    return listed;
  }

  static byte[] read(String resource) {
    try (InputStream in = KernelModules.class.getResourceAsStream(resource)) {
      if (in == null) {
        throw new UncheckedIOException(new IOException("missing resource " + resource));
      }
      return in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The kernel of that name in any loaded module. */
  synchronized CUfunction function(String name) {
    CUfunction found = functions.get(name);
    if (found != null) {
      return found;
    }
    for (CUmodule module : modules) {
      CUfunction function = new CUfunction();
      int result = cuModuleGetFunction(function, module, name);
      if (result == CUresult.CUDA_SUCCESS) {
        functions.put(name, function);
        return function;
      }
      if (result != CUresult.CUDA_ERROR_NOT_FOUND) {
        CudaException.check(result, "cuModuleGetFunction(" + name + ")");
      }
    }
    throw new CudaException("no kernel named " + name + " in the loaded modules " + names);
  }

  synchronized boolean has(String name) {
    try {
      function(name);
      return true;
    } catch (CudaException e) {
      return false;
    }
  }

  /** Lets a kernel use more than the default 48 KiB of dynamic shared memory. */
  synchronized void allowSharedMemory(String name, CUfunction function, int bytes) {
    if (sharedMemoryAllowed.getOrDefault(name, 48 * 1024) < bytes) {
      CudaException.check(cuFuncSetAttribute(function,
          CUfunction_attribute.CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, bytes),
          "allowing " + bytes + " bytes of shared memory to " + name);
      sharedMemoryAllowed.put(name, bytes);
    }
  }

  List<String> moduleNames() {
    return List.copyOf(names);
  }

  /** Time the driver took to compile and load the modules. */
  long loadNanos() {
    return loadNanos;
  }
}
