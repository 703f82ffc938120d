package dev.calibra.kernels.cuda;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * The PTX the build put in the jar, checked without a GPU: every listed module is there, is built
 * for the architecture its index line names, and carries a PTX ISA version that the GPU machines'
 * driver (580, CUDA 13.0, PTX ISA 9.0) accepts: a newer nvcc would write a newer one, which that
 * driver refuses at load time.
 */
class KernelModulesTest {

  private static final Pattern VERSION = Pattern.compile("\\.version (\\d+)\\.(\\d+)");
  private static final Pattern TARGET = Pattern.compile("\\.target (sm_\\w+)");

  @Test
  void everyListedModuleIsLoadableByDriver580() {
    Assumptions.assumeFalse(Boolean.getBoolean("calibra.cuda.skip"), "built with -Dcalibra.cuda.skip");
    assertTrue(KernelModules.shipped(), "the jar carries no " + KernelModules.INDEX);
    assertFalse(KernelModules.listed().isEmpty());
    for (KernelModules.Listed listed : KernelModules.listed()) {
      String ptx = new String(KernelModules.read(KernelModules.DIRECTORY + listed.file()),
          StandardCharsets.UTF_8);
      Matcher version = VERSION.matcher(ptx);
      assertTrue(version.find(), listed.file() + " has no .version");
      int major = Integer.parseInt(version.group(1));
      int minor = Integer.parseInt(version.group(2));
      assertTrue(major < 9 || (major == 9 && minor == 0),
          listed.file() + " is PTX ISA " + major + "." + minor + ", newer than driver 580 accepts");
      Matcher target = TARGET.matcher(ptx);
      assertTrue(target.find(), listed.file() + " has no .target");
      assertTrue(target.group(1).equals("sm_" + listed.level()), listed.file() + " targets "
          + target.group(1) + " but is listed as " + listed.level());
      assertTrue(ptx.contains(".entry"), listed.file() + " has no kernel");
    }
  }
}
