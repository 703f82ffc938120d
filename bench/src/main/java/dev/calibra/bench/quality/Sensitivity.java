package dev.calibra.bench.quality;

import dev.calibra.bench.SharedModelData;

import dev.calibra.calibration.BlockQuantizer;
import dev.calibra.calibration.QuantizedBlock;
import dev.calibra.calibration.QuantizedWeightSource;
import dev.calibra.calibration.rtn.RoundToNearest;
import dev.calibra.calibration.uniform.QuantizationScheme;
import dev.calibra.model.cpu.CpuBackend;
import dev.calibra.model.eval.PerplexityEvaluator;
import dev.calibra.model.llama.BlockWeights;
import dev.calibra.model.llama.LayerwiseRunner;
import dev.calibra.model.llama.Linear;
import dev.calibra.storage.hf.ModelDirectory;
import java.nio.file.Path;
import java.util.Map;

/** Scratch: RTN on one layer type or one block at a time (temporary). */
public final class Sensitivity {
  public static void main(String[] args) throws Exception {
    Path dir = Path.of(args[0]);
    QuantizationScheme scheme = new QuantizationScheme(Integer.parseInt(args[1]), QuantizationScheme.parseGroupSize(args[2]));
    SharedModelData data = SharedModelData.load(dir);
    CpuBackend backend = new CpuBackend();
    RoundToNearest rtn = new RoundToNearest(scheme);
    try (ModelDirectory model = ModelDirectory.open(dir.toString())) {
      LayerwiseRunner runner = new LayerwiseRunner(backend, 8192, (i, n, t) -> { });
      for (Linear only : Linear.values()) {
        BlockQuantizer q = new BlockQuantizer() {
          public String method() { return "x"; }
          public QuantizedBlock quantize(int index, BlockWeights block, dev.calibra.model.backend.Backend b) {
            if (index != Integer.getInteger("blockOnly", index)) return new QuantizedBlock(index, block, Map.of(), Map.of());
            QuantizedBlock all = rtn.quantize(index, block, b);
            return new QuantizedBlock(index, block.withLinear(only, all.dequantized().weight(only)), Map.of(), Map.of());
          }
        };
        double ppl = new PerplexityEvaluator(runner).evaluate(new QuantizedWeightSource(model.weights(), q, null, x -> { }), data.evaluation()).value();
        System.out.printf("only %s: %.3f%n", only, ppl);
      }
      for (int blockOnly = 0; blockOnly < model.config().numLayers(); blockOnly++) {
        int bo = blockOnly;
        BlockQuantizer q = new BlockQuantizer() {
          public String method() { return "x"; }
          public QuantizedBlock quantize(int index, BlockWeights block, dev.calibra.model.backend.Backend b) {
            return index == bo ? rtn.quantize(index, block, b) : new QuantizedBlock(index, block, Map.of(), Map.of());
          }
        };
        double ppl = new PerplexityEvaluator(runner).evaluate(new QuantizedWeightSource(model.weights(), q, null, x -> { }), data.evaluation()).value();
        System.out.printf("only block %d: %.3f%n", bo, ppl);
      }
    }
  }
}
