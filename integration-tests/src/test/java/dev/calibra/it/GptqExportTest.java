package dev.calibra.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.calibra.storage.FileLocation;
import dev.calibra.storage.artifact.ArtifactReader;
import dev.calibra.storage.safetensors.SafetensorsFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

/**
 * dict-llama-15M (rows of 288 and 768) quantized with RTN and exported to the GPTQ layout; the
 * Python tests dequantize the exports independently and compare with the references written
 * here. One evaluation window keeps each run short: the export, not the perplexity, is tested.
 */
class GptqExportTest {

  private static final Path MODEL = SharedData.model("dict-llama-15M");

  @ParameterizedTest(name = "w{0} g{1} {2}")
  @CsvSource({"4, 32, gptq", "3, 32, gptq_v2", "2, 32, gptq_v2", "8, per-channel, gptq"})
  void exportsTheGptqLayout(int bits, String group, String format) throws Exception {
    String name = "dict-llama-15M-w" + bits + "g" + (group.equals("per-channel") ? "c" : group);
    Path artifact = quantize(name, bits, group);
    Path export = CliRun.FIXTURES.resolve(name + "-gptq");
    CliRun run = CliRun.succeeding("export-gptq", "--artifact", artifact.toString(), "--out",
        export.toString(), "--checkpoint-format", format, "--overwrite");
    assertTrue(run.out().contains("42 quantized layers, 14 float16 tensors"), run.out());

    JsonNode quantizeConfig = SharedData.json(export.resolve("quantize_config.json"));
    assertEquals(bits, quantizeConfig.get("bits").asInt());
    assertEquals(group.equals("per-channel") ? -1 : 32, quantizeConfig.get("group_size").asInt());
    assertEquals(format, quantizeConfig.get("checkpoint_format").asText());
    assertFalse(quantizeConfig.get("sym").asBoolean());
    assertFalse(quantizeConfig.get("desc_act").asBoolean());
    JsonNode config = SharedData.json(export.resolve("config.json"));
    assertEquals(quantizeConfig, config.get("quantization_config"));
    assertEquals(288, config.get("hidden_size").asInt());
    assertArrayEquals(Files.readAllBytes(MODEL.resolve("tokenizer.model")),
        Files.readAllBytes(export.resolve("tokenizer.model")));

    try (SafetensorsFile weights = SafetensorsFile.open(FileLocation.of(
        export.resolve("model.safetensors").toString(), new Configuration()))) {
      // down_proj: in 768, out 288; qweight [768·bits/32, 288], qzeros [groups, 288·bits/32].
      int groups = group.equals("per-channel") ? 1 : 768 / 32;
      assertArrayEquals(new long[] {768 * bits / 32, 288},
          weights.tensor("model.layers.5.mlp.down_proj.qweight").shape());
      assertArrayEquals(new long[] {groups, 288 * bits / 32},
          weights.tensor("model.layers.5.mlp.down_proj.qzeros").shape());
      assertArrayEquals(new long[] {groups, 288},
          weights.tensor("model.layers.5.mlp.down_proj.scales").shape());
      assertArrayEquals(new long[] {768}, weights.tensor("model.layers.5.mlp.down_proj.g_idx").shape());
      assertEquals("F16", weights.tensor("model.embed_tokens.weight").dtype().name());
    }
    try (ArtifactReader reader = ArtifactReader.open(FileLocation.of(artifact.toString(),
        new Configuration()))) {
      DequantizedWeights.write(reader, CliRun.FIXTURES.resolve(name + ".fp16-scales.safetensors"), true);
    }
  }

  @Test
  void aGroupSizeThatDoesNotDivideTheRowsIsRefusedByName() throws Exception {
    Path artifact = quantize("dict-llama-15M-w4g128", 4, "128");
    Path export = CliRun.FIXTURES.resolve("dict-llama-15M-w4g128-gptq");
    CliRun run = CliRun.of("export-gptq", "--artifact", artifact.toString(), "--out",
        export.toString(), "--overwrite");
    assertEquals(1, run.exitCode());
    assertTrue(run.err().startsWith("calibra export-gptq failed: cannot export " + artifact
        + " to the GPTQ layout:\n  model.layers.0.self_attn.q_proj.weight [288, 288] has 288 input "
        + "columns, which groups of 128 do not divide"), run.err());
    assertFalse(Files.exists(export));
    List<String> lines = run.err().lines().toList();
    assertEquals(1 + 6 * 6, lines.size(), "every layer with 288 inputs is named; down_proj's 768 fits");
  }

  private static Path quantize(String name, int bits, String group) throws Exception {
    Files.createDirectories(CliRun.FIXTURES);
    // The first 16 kB of the held-out text hold enough tokens for the one window, and take a
    // fraction of the time to tokenize.
    Path text = CliRun.FIXTURES.resolve("dict-llama-15M-heldout-head.txt");
    String heldout = Files.readString(MODEL.resolve("heldout.txt"));
    Files.writeString(text, heldout.substring(0, heldout.indexOf("\n\n", 16_000)));
    Path artifact = CliRun.FIXTURES.resolve(name + ".arrow");
    CliRun.succeeding("quantize", "--model", MODEL.toString(), "--bits", Integer.toString(bits),
        "--group", group, "--eval-text", text.toString(), "--windows", "1", "--context", "512",
        "--skip-float", "--output",
        artifact.toString(), "--overwrite", "--report",
        CliRun.FIXTURES.resolve(name + ".report.json").toString(), "--threads", "2");
    return artifact;
  }
}
