package dev.calibra.calibration.gptq;

import dev.calibra.calibration.CalibrationBatches;
import dev.calibra.calibration.LinearInputStatistics;
import dev.calibra.calibration.QuantizedBlock;
import dev.calibra.calibration.WeightError;
import dev.calibra.calibration.cbq.CalibratedModel;
import dev.calibra.calibration.uniform.QuantizationScheme;
import dev.calibra.calibration.uniform.QuantizedMatrix;
import dev.calibra.model.backend.Backend;
import dev.calibra.model.backend.Tensor;
import dev.calibra.model.llama.BlockActivations;
import dev.calibra.model.llama.BlockWeights;
import dev.calibra.model.llama.DecoderBlock;
import dev.calibra.model.llama.Linear;
import dev.calibra.model.llama.LlamaConfig;
import dev.calibra.model.llama.LlamaWeightSource;
import dev.calibra.model.llama.RotaryTables;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * GPTQ over a whole model, block by block, as the reference implementation of shared/README.md's
 * GPTQ column runs it: each block's inputs are what the already quantized blocks before it
 * produce, and every layer of the block is quantized from the inputs the float block gives its
 * layer over them (not "true-sequential", which would run the block again after each group of
 * layers with those quantized). It reproduces that column on stories260K to four digits
 * ({@code GptqQuantizerTest}), so it is CBQ's baseline on calibration data that column was not
 * measured on.
 */
public final class GptqQuantizer {

  /** The layers reading each of {@link LinearInputStatistics}' four places, in its order. */
  private static final List<List<Linear>> SITES = List.of(
      List.of(Linear.Q, Linear.K, Linear.V), List.of(Linear.O),
      List.of(Linear.GATE, Linear.UP), List.of(Linear.DOWN));

  /** Samples run through a block together: memory for activations, not a result. */
  private static final int BATCH_SAMPLES = 8;

  private final Backend backend;
  private final QuantizationScheme scheme;
  private final Consumer<QuantizedBlock> onBlock;

  /** @param onBlock told of every block as it is finished (for progress) */
  public GptqQuantizer(Backend backend, QuantizationScheme scheme,
      Consumer<QuantizedBlock> onBlock) {
    this.backend = backend;
    this.scheme = scheme;
    this.onBlock = onBlock;
  }

  /** Quantizes every linear layer of every block of {@code floatModel} on {@code samples}. */
  public CalibratedModel quantize(LlamaWeightSource floatModel, List<int[]> samples) {
    LlamaConfig config = floatModel.config();
    int seqLen = CalibrationBatches.sampleLength(samples, config);
    List<Tensor> stream = CalibrationBatches.embed(backend, floatModel, samples, BATCH_SAMPLES);
    RotaryTables rotary = RotaryTables.of(config, seqLen, backend);
    DecoderBlock block = new DecoderBlock(config, backend, rotary);
    List<QuantizedBlock> blocks = new ArrayList<>();
    for (int b = 0; b < config.numLayers(); b++) {
      QuantizedBlock quantized = quantizeBlock(b, block, floatModel.block(b, backend), stream,
          seqLen);
      blocks.add(quantized);
      onBlock.accept(quantized);
      List<Tensor> next = new ArrayList<>(stream.size());
      for (Tensor x : stream) {
        BlockActivations a = block.forward(quantized.dequantized(), x,
            block.shape(x.rows() / seqLen, seqLen));
        a.releaseIntermediates();
        next.add(a.output());
        x.close();
      }
      stream = next;
    }
    stream.forEach(Tensor::close);
    rotary.cos().close();
    rotary.sin().close();
    return new CalibratedModel(floatModel, blocks, 0, backend);
  }

  private QuantizedBlock quantizeBlock(int index, DecoderBlock block, BlockWeights floatWeights,
      List<Tensor> inputs, int seqLen) {
    float[][] grams = LinearInputStatistics.collect(block, floatWeights, inputs, seqLen,
        new LinearInputStatistics.Reduction() {
          @Override
          public void accumulate(Backend backend, Tensor activations, Tensor running) {
            backend.matmul(activations, true, activations, false, running, true);
          }

          @Override
          public int rows(int channels) {
            return channels;
          }
        });
    BlockWeights result = floatWeights;
    Map<Linear, QuantizedMatrix> matrices = new EnumMap<>(Linear.class);
    Map<Linear, Double> errors = new EnumMap<>(Linear.class);
    for (int site = 0; site < SITES.size(); site++) {
      List<Linear> readers = SITES.get(site);
      GptqRounding.InverseHessian hessian = GptqRounding.InverseHessian.of(grams[site],
          floatWeights.weight(readers.get(0)).cols());
      for (Linear linear : readers) {
        Tensor weight = floatWeights.weight(linear);
        float[] original = backend.download(weight);
        QuantizedMatrix q = GptqRounding.quantize(original, weight.rows(), weight.cols(), hessian,
            scheme);
        float[] restored = q.dequantize();
        matrices.put(linear, q);
        errors.put(linear, WeightError.relative(original, restored));
        result = result.withLinear(linear, backend.upload(restored, weight.rows(),
            weight.cols()));
      }
    }
    floatWeights.closeAllBut(result);
    return new QuantizedBlock(index, result, matrices, errors);
  }
}
