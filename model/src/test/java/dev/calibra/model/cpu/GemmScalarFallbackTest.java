package dev.calibra.model.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * Starts a JVM without {@code --add-modules jdk.incubator.vector} and checks that {@link Gemm}
 * loads there, picks the scalar kernel on its own and still multiplies correctly.
 */
class GemmScalarFallbackTest {

  @Test
  void aJvmWithoutTheVectorModuleFallsBackToTheScalarKernel()
      throws IOException, InterruptedException {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    Process probe = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
        ScalarFallbackProbe.class.getName())
        .redirectErrorStream(true)
        .start();
    String output = new String(probe.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertEquals(0, probe.waitFor(), output);
    assertEquals("SCALAR 0.0", output.strip());
  }
}
