package dev.calibra.jobs.calibrate;

import dev.calibra.model.backend.Backend;
import dev.calibra.model.backend.Tensor;
import dev.calibra.model.llama.BlockWeights;
import dev.calibra.model.llama.LinearInputQuantizer;
import dev.calibra.model.llama.LlamaConfig;
import dev.calibra.model.llama.LlamaWeightSource;
import dev.calibra.partitioning.BlockRange;
import java.util.HashMap;
import java.util.Map;

/**
 * A model whose blocks of one shard were loaded onto the task's backend up front, before the
 * task has its input activations: in the sequential schedule a shard's task loads its weights
 * while the previous shard still runs. Each preloaded block is handed out once (the calibrator
 * asks for a block once), then forgotten so that its memory goes with the calibrator's copy.
 */
final class PreloadedBlocks implements LlamaWeightSource {

  private final LlamaWeightSource source;
  private final Backend backend;
  private final Map<Integer, BlockWeights> loaded = new HashMap<>();

  private PreloadedBlocks(LlamaWeightSource source, Backend backend) {
    this.source = source;
    this.backend = backend;
  }

  /** Loads every block of {@code ranges} onto {@code backend} now. */
  static PreloadedBlocks load(LlamaWeightSource source, Backend backend, BlockRange... ranges) {
    PreloadedBlocks preloaded = new PreloadedBlocks(source, backend);
    for (BlockRange range : ranges) {
      for (int b = range.first(); b <= range.last(); b++) {
        preloaded.loaded.put(b, source.block(b, backend));
      }
    }
    return preloaded;
  }

  @Override
  public BlockWeights block(int index, Backend target) {
    BlockWeights weights = loaded.remove(index);
    return weights != null && target == backend ? weights : source.block(index, target);
  }

  @Override
  public LlamaConfig config() {
    return source.config();
  }

  @Override
  public Tensor embedding(Backend target) {
    return source.embedding(target);
  }

  @Override
  public Tensor finalNorm(Backend target) {
    return source.finalNorm(target);
  }

  @Override
  public Tensor lmHead(Backend target) {
    return source.lmHead(target);
  }

  @Override
  public LinearInputQuantizer linearInputs(Backend target) {
    return source.linearInputs(target);
  }
}
