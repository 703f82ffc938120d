package dev.calibra.model.llama;

/** The linear layers of a Llama decoder block, with their Hugging Face parameter names. */
public enum Linear {
  Q("self_attn.q_proj"),
  K("self_attn.k_proj"),
  V("self_attn.v_proj"),
  O("self_attn.o_proj"),
  GATE("mlp.gate_proj"),
  UP("mlp.up_proj"),
  DOWN("mlp.down_proj");

  private final String hfName;

  Linear(String hfName) {
    this.hfName = hfName;
  }

  /** Name inside a block, e.g. "self_attn.q_proj". */
  public String hfName() {
    return hfName;
  }

  /** Whether qwen2-style attention bias applies to this layer. */
  public boolean takesAttentionBias() {
    return this == Q || this == K || this == V;
  }
}
