package dev.calibra.storage.artifact;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Optional;
import java.util.Random;

/** Deterministic tensors of every kind and matching metadata, for artifact tests. */
final class SampleTensors {

  private SampleTensors() {}

  /** A config.json of a 2-block model, as the metadata carries it. */
  static ObjectNode modelConfig(int layers) {
    ObjectNode config = ArtifactMetadata.emptyObject();
    config.put("model_type", "llama").put("hidden_size", 8).put("intermediate_size", 12)
        .put("num_hidden_layers", layers).put("num_attention_heads", 2)
        .put("num_key_value_heads", 1).put("vocab_size", 16).put("max_position_embeddings", 32)
        .put("rms_norm_eps", 1e-5).put("rope_theta", 10000.0).put("tie_word_embeddings", true);
    return config;
  }

  static ArtifactMetadata metadata(int layers) {
    ObjectNode recipe = ArtifactMetadata.emptyObject().put("method", "rtn").put("bits", 3)
        .put("group_size", 32);
    ObjectNode tokenizer = ArtifactMetadata.emptyObject().put("source", "file:/nowhere");
    ObjectNode metrics = ArtifactMetadata.emptyObject();
    metrics.putObject("perplexity").put("quantized", 123.456789012345);
    ObjectNode provenance = ArtifactMetadata.emptyObject().put("tool", "test");
    return new ArtifactMetadata(modelConfig(layers), tokenizer, recipe, metrics, provenance,
        Optional.empty());
  }

  /** A uniform tensor with random codes, scales and zero points; clip values optional. */
  static ArtifactTensor uniform(String name, int block, int rows, int cols, int bits, int group,
      boolean clip, long seed) {
    Random random = new Random(seed);
    byte[] codes = new byte[rows * cols];
    for (int i = 0; i < codes.length; i++) {
      codes[i] = (byte) random.nextInt(1 << bits);
    }
    UniformPayload shapeOnly = new UniformPayload(bits, group, new byte[0], new float[0],
        new int[0], null);
    int groups = rows * shapeOnly.groupsPerRow(cols);
    float[] scales = new float[groups];
    int[] zeros = new int[groups];
    float[] clips = clip ? new float[2 * groups] : null;
    for (int g = 0; g < groups; g++) {
      scales[g] = 0.001f + random.nextFloat() * 0.1f;
      zeros[g] = random.nextInt(1 << bits);
      if (clip) {
        clips[2 * g] = -random.nextFloat();
        clips[2 * g + 1] = random.nextFloat();
      }
    }
    return new ArtifactTensor(name, block, new int[] {rows, cols},
        new UniformPayload(bits, group, BitPacking.pack(codes, bits), scales, zeros, clips));
  }

  static ArtifactTensor floats(String name, int block, int... shape) {
    int count = 1;
    for (int d : shape) {
      count *= d;
    }
    float[] values = new float[count];
    Random random = new Random(name.hashCode());
    for (int i = 0; i < count; i++) {
      values[i] = (float) random.nextGaussian();
    }
    return new ArtifactTensor(name, block, shape, new FloatPayload(values));
  }

  /**
   * A VQ tensor: sub-vectors of 4, codebooks of 16 entries (one per {@code codebookRows} rows, or
   * one for all when null), per-row scales optional.
   */
  static ArtifactTensor vq(String name, int block, int rows, int cols, boolean rowScales,
      Integer codebookRows) {
    Random random = new Random(name.hashCode());
    int dim = 4;
    int codebooks = codebookRows == null ? 1 : (rows + codebookRows - 1) / codebookRows;
    short[] codebook = new short[codebooks * 16 * dim];
    for (int i = 0; i < codebook.length; i++) {
      codebook[i] = org.apache.arrow.memory.util.Float16.toFloat16((float) random.nextGaussian());
    }
    int[] indices = new int[rows * cols / dim];
    for (int i = 0; i < indices.length; i++) {
      indices[i] = random.nextInt(16);
    }
    float[] scales = null;
    if (rowScales) {
      scales = new float[rows];
      for (int r = 0; r < rows; r++) {
        scales[r] = 0.5f + random.nextFloat();
      }
    }
    return new ArtifactTensor(name, block, new int[] {rows, cols},
        new VqPayload(4, dim, codebook, BitPacking.pack(indices, 4), scales, codebookRows));
  }
}
