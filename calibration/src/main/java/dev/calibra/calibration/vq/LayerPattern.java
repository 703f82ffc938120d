package dev.calibra.calibration.vq;

import dev.calibra.model.llama.Linear;
import java.util.regex.Pattern;

/**
 * A glob over layer names: {@code *} matches any text, every other character itself. A layer
 * matches when the pattern matches its name inside the block ("mlp.down_proj",
 * "self_attn.q_proj") or its name with the block ("layers.3.mlp.down_proj"): "mlp.*" picks the
 * MLP of every block, "layers.0.*" every layer of block 0.
 */
public record LayerPattern(String glob) {

  public LayerPattern {
    if (glob.isBlank()) {
      throw new IllegalArgumentException("a layer pattern cannot be empty");
    }
  }

  public boolean matches(int block, Linear linear) {
    Pattern regex = regex();
    return regex.matcher(linear.hfName()).matches()
        || regex.matcher("layers." + block + "." + linear.hfName()).matches();
  }

  /**
   * Whether the pattern names at least one layer of a model of up to {@code MAX_BLOCKS} blocks,
   * so that a typo fails before any work rather than quantizing nothing.
   */
  public boolean matchesAnyLayer() {
    for (int block = 0; block < MAX_BLOCKS; block++) {
      for (Linear linear : Linear.values()) {
        if (matches(block, linear)) {
          return true;
        }
      }
    }
    return false;
  }

  private static final int MAX_BLOCKS = 1024;

  private Pattern regex() {
    String[] parts = glob.split("\\*", -1);
    StringBuilder regex = new StringBuilder();
    for (int i = 0; i < parts.length; i++) {
      regex.append(i > 0 ? ".*" : "").append(Pattern.quote(parts[i]));
    }
    return Pattern.compile(regex.toString());
  }
}
