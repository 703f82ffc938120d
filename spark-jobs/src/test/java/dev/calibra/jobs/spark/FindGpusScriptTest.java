package dev.calibra.jobs.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.resource.ResourceInformation;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The GPU discovery script shipped for Spark, run as Spark runs it, with a stand-in nvidia-smi
 * (there is no GPU here): its output must parse as Spark's resource JSON.
 */
class FindGpusScriptTest {

  private static final Path SCRIPT = Path.of("scripts", "find-gpus.sh").toAbsolutePath();

  @TempDir
  Path bin;

  @Test
  void reportsEveryIndexNvidiaSmiListsAsSparkResourceAddresses() throws Exception {
    fakeNvidiaSmi("echo 0\necho ' 1'\necho 2\n");

    JsonNode json = run(bin + ":/usr/bin:/bin");

    assertEquals("gpu", json.get("name").asText());
    assertEquals(List.of("0", "1", "2"), addresses(json));
    ResourceInformation parsed = ResourceInformation.parseJson(json.toString());
    assertEquals(3, parsed.addresses().length);
    assertEquals(java.util.OptionalInt.of(0), GpuAddress.parse(parsed.addresses()));
  }

  @Test
  void aMachineWithoutNvidiaSmiHasNoGpus() throws Exception {
    JsonNode json = run(bin + ":/usr/bin:/bin");

    assertEquals("gpu", json.get("name").asText());
    assertEquals(List.of(), addresses(json));
  }

  private void fakeNvidiaSmi(String body) throws Exception {
    Path smi = bin.resolve("nvidia-smi");
    Files.writeString(smi, "#!/bin/sh\n" + body);
    Files.setPosixFilePermissions(smi, PosixFilePermissions.fromString("rwxr-xr-x"));
  }

  private static JsonNode run(String path) throws Exception {
    ProcessBuilder builder = new ProcessBuilder("bash", SCRIPT.toString());
    builder.environment().put("PATH", path);
    Process process = builder.redirectErrorStream(true).start();
    String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertEquals(0, process.waitFor(), out);
    return new ObjectMapper().readTree(out);
  }

  private static List<String> addresses(JsonNode json) {
    List<String> addresses = new ArrayList<>();
    json.get("addresses").forEach(a -> addresses.add(a.asText()));
    return addresses;
  }
}
