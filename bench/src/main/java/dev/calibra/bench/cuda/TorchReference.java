package dev.calibra.bench.cuda;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Path;
import java.util.OptionalDouble;

/** The numbers torch_reference.py measured on the same GPU, or none when it was not run. */
public final class TorchReference {

  private final JsonNode root;

  private TorchReference(JsonNode root) {
    this.root = root;
  }

  public static TorchReference none() {
    return new TorchReference(null);
  }

  public static TorchReference read(Path file) throws IOException {
    return new TorchReference(new ObjectMapper().readTree(file.toFile()));
  }

  public String version() {
    return root == null ? "not run" : root.path("torch").asText();
  }

  public String device() {
    return root == null ? "not run" : root.path("device").asText();
  }

  public OptionalDouble gemmTflops(String name) {
    return number(root == null ? null : root.path("gemm").path(name).path("tflops"));
  }

  public OptionalDouble windowMilliseconds() {
    return number(root == null ? null : root.path("window").path("ms"));
  }

  private static OptionalDouble number(JsonNode node) {
    return node == null || !node.isNumber() ? OptionalDouble.empty() : OptionalDouble.of(node.asDouble());
  }
}
