package dev.calibra.storage.hf;

import dev.calibra.model.llama.Linear;

/** The parameter names of a Hugging Face Llama-family checkpoint. */
public final class HfTensorNames {

  public static final String EMBEDDING = "model.embed_tokens.weight";
  public static final String FINAL_NORM = "model.norm.weight";
  public static final String LM_HEAD = "lm_head.weight";

  private HfTensorNames() {
  }

  public static String inputNorm(int block) {
    return blockPrefix(block) + "input_layernorm.weight";
  }

  public static String postAttentionNorm(int block) {
    return blockPrefix(block) + "post_attention_layernorm.weight";
  }

  /** e.g. "model.layers.3.mlp.up_proj.weight". */
  public static String weight(int block, Linear linear) {
    return blockPrefix(block) + linear.hfName() + ".weight";
  }

  public static String bias(int block, Linear linear) {
    return blockPrefix(block) + linear.hfName() + ".bias";
  }

  private static String blockPrefix(int block) {
    return "model.layers." + block + ".";
  }
}
