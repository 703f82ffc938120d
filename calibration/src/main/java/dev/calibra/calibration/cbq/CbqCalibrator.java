package dev.calibra.calibration.cbq;

import dev.calibra.model.llama.ActivationFakeQuantizer;
import dev.calibra.calibration.CalibrationBatches;
import dev.calibra.calibration.QuantizedBlock;
import dev.calibra.calibration.WeightError;
import dev.calibra.calibration.cfp.ActivationOutlierScaling;
import dev.calibra.calibration.cfp.ChannelMaxima;
import dev.calibra.calibration.cfp.ChannelScaleSearch;
import dev.calibra.calibration.cfp.WeightOutlierTruncation;
import dev.calibra.calibration.rotation.RotatedWeightSource;
import dev.calibra.calibration.uniform.QuantizedMatrix;
import dev.calibra.calibration.vq.VqMatrix;
import dev.calibra.model.backend.Backend;
import dev.calibra.model.backend.Tensor;
import dev.calibra.model.llama.BlockActivations;
import dev.calibra.model.llama.BlockWeights;
import dev.calibra.model.llama.BlockWindow;
import dev.calibra.model.llama.DecoderBlock;
import dev.calibra.model.llama.Linear;
import dev.calibra.model.llama.LinearInputQuantizer;
import dev.calibra.model.llama.LlamaConfig;
import dev.calibra.model.llama.LlamaWeightSource;
import dev.calibra.model.llama.RotaryTables;
import dev.calibra.partitioning.BlockRange;
import dev.calibra.partitioning.WindowLayout;
import dev.calibra.partitioning.WindowSpan;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Cross-block quantization (CBQ): windows of consecutive blocks, each trained to reproduce the
 * float model's output at its end from the quantized model's input at its start.
 *
 * <p>Two streams of activations run beside each other ({@link ActivationStreams}): the float
 * model's hidden states at the current window's first block, and the same samples through the
 * already finished, quantized blocks. A window's targets are the float stream pushed through the
 * window's float blocks; its inputs are the quantized stream, so each window learns to undo the
 * error of those before it. Blocks in the overlap of two windows keep their learned parameters
 * from the first into the second; a block is finished after the last window that holds it.
 *
 * <p>{@link #calibrate} runs a whole model. {@link #calibrateWindows} runs a contiguous part of
 * the window sequence from given streams and hands unfinished blocks on: what a Spark task does
 * with its shard; {@link #tuneEndToEnd} the end-to-end pass over a whole model's finished
 * blocks, what the job's end-to-end stage runs with its shards' parts. Every random choice is derived from the recipe's seed and the block, layer or
 * window index, so a model calibrated in parts learns what it learns in one piece.
 */
public final class CbqCalibrator {

  private final Backend backend;
  private final CbqRecipe recipe;
  private final LayerQuantizerFactory layerQuantizers;
  private final CalibrationListener listener;

  public CbqCalibrator(Backend backend, CbqRecipe recipe, CalibrationListener listener) {
    this(backend, recipe, LayerQuantizerFactory.NONE, listener);
  }

  /**
   * A calibrator of a mixed recipe: the layers {@code layerQuantizers} covers get its quantizers
   * (vector quantization, say), the others the recipe's uniform scheme.
   */
  public CbqCalibrator(Backend backend, CbqRecipe recipe, LayerQuantizerFactory layerQuantizers,
      CalibrationListener listener) {
    this.backend = backend;
    this.recipe = recipe;
    this.layerQuantizers = layerQuantizers;
    this.listener = listener;
  }

  /**
   * Calibrates every block of {@code source} on {@code samples} (token sequences, all of one
   * length) and returns the quantized model.
   */
  public CalibratedModel calibrate(LlamaWeightSource floatModel, List<int[]> samples) {
    LlamaWeightSource source = modelToCalibrate(floatModel, recipe);
    List<WindowSpan> windows = windowsOf(source.config());
    boolean endToEnd = recipe.endToEndEpochs() > 0;
    // With the end-to-end pass the schedule has one more window, and blocks are done only after
    // it.
    CbqCalibrator windowStage = !endToEnd ? this : new CbqCalibrator(backend, recipe,
        layerQuantizers, scheduleOf(listener, windows.size() + 1, false));
    List<QuantizedBlock> blocks = windowStage.finishedBlocks(source, embed(source, samples),
        windows);
    if (endToEnd) {
      blocks = tuneEndToEnd(source, samples, blocks);
    }
    return new CalibratedModel(source, blocks, recipe.activationBits(), backend);
  }

  /**
   * The model {@code recipe} calibrates: the float model itself, or the same model in a rotated
   * basis when the recipe rotates ({@link RotatedWeightSource}, from the recipe's seed). Whatever
   * runs a part of a calibration (a Spark task) opens its model through this, so that every part
   * sees the same weights.
   */
  public static LlamaWeightSource modelToCalibrate(LlamaWeightSource floatModel,
      CbqRecipe recipe) {
    return recipe.rotate() ? new RotatedWeightSource(floatModel, recipe.seed()) : floatModel;
  }

  private List<WindowSpan> windowsOf(LlamaConfig config) {
    return WindowLayout.of(config.numLayers(), recipe.windowSize(), recipe.overlap());
  }

  /** Runs a whole model's windows and returns its finished blocks. */
  private List<QuantizedBlock> finishedBlocks(LlamaWeightSource source, ActivationStreams start,
      List<WindowSpan> windows) {
    int blocks = source.config().numLayers();
    Outcome outcome = calibrateWindows(source, start, windows, blocks, List.of());
    // The streams past the last block feed nothing.
    outcome.next().floatStream().forEach(Tensor::close);
    outcome.next().quantizedStream().forEach(Tensor::close);
    return outcome.finished();
  }

  /**
   * End-to-end tuning (EfficientQAT's E2E-QP, with codes free to move): the whole model is one
   * last window, from the embeddings to the logits (the logit loss of the recipe applies), in
   * which every uniform layer keeps its windows' grid and zero points and learns its group steps
   * and, unless the recipe's end-to-end weight learning rate is 0, a latent weight whose rounding
   * gives its codes ({@link LatentWeightTuner}; else the codes stay, {@link GroupScaleTuner});
   * every vector-quantized one keeps its codewords' indices and learns its codebook values
   * ({@link CodebookTuner}). The windows each reproduced their own end; this pass lets all
   * layers settle against the model's output together. Like every window it keeps its start
   * when training made its objective worse.
   *
   * <p>{@link #calibrate} runs it after its windows; the Spark job's end-to-end stage runs it on
   * the blocks its shards wrote. Either way it is the schedule's last window: its index (which
   * seeds its batch order and names it to the listener) follows the recipe's windows, so the
   * two give the same result.
   *
   * @param source the model being calibrated: {@link #modelToCalibrate} of the float model
   * @param windowed every block of the model as its windows finished it; their dequantized
   *     weights are released as the pass takes the packed forms
   * @return the tuned blocks, in block order
   */
  public List<QuantizedBlock> tuneEndToEnd(LlamaWeightSource source, List<int[]> samples,
      List<QuantizedBlock> windowed) {
    Map<Integer, QuantizedBlock> byIndex = new HashMap<>();
    windowed.forEach(q -> byIndex.put(q.index(), q));
    int blocks = source.config().numLayers();
    for (int b = 0; b < blocks; b++) {
      if (!byIndex.containsKey(b)) {
        throw new IllegalArgumentException("the end-to-end pass needs every block of the model, "
            + "block " + b + " of " + blocks + " is missing");
      }
    }
    LayerQuantizerFactory tuners = (block, index, weights, inputs, seqLen, seed) -> {
      QuantizedBlock finished = byIndex.get(index);
      Map<Linear, LayerQuantizer> layers = new EnumMap<>(Linear.class);
      finished.matrices().forEach((linear, matrix) -> layers.put(linear,
          recipe.endToEndWeightLearningRate() == 0
              ? new GroupScaleTuner(backend, matrix, endToEndLearningRate(matrix.scheme().bits()))
              : new LatentWeightTuner(backend, matrix, backend.download(weights.weight(linear)),
                  endToEndLearningRate(matrix.scheme().bits()),
                  recipe.endToEndWeightLearningRate())));
      finished.vectorQuantized().forEach((linear, matrix) -> layers.put(linear,
          new CodebookTuner(backend, matrix,
              endToEndLearningRate((double) matrix.indexBits() / matrix.dim()))));
      // The tuners start from the packed forms; the windows' weights are spent before training.
      finished.dequantized().closeAllBut(null);
      return layers;
    };
    CbqRecipe wholeModel = recipe.toBuilder().epochs(recipe.endToEndEpochs()).build();
    int windowIndex = windowsOf(source.config()).size();
    return new CbqCalibrator(backend, wholeModel, tuners,
        scheduleOf(listener, windowIndex + 1, true)).finishedBlocks(source,
            embed(source, samples), List.of(new WindowSpan(windowIndex,
                new BlockRange(0, blocks - 1))));
  }

  /**
   * The recipe's end-to-end learning rate, given for 4 bits, scaled by 2^(4 − bits) (bits per
   * weight: index bits per sub-vector column for VQ): a grid of b
   * bits leaves each weight an error of about 2^−b of its group's range, and the step's relative
   * change that pays off is of that order (stories260K: W8 g32 18.072 at 3e-3 and 18.046 at
   * 1e-3 against 18.034 at 2e-4, 18.032 with no pass at all; W2 g32 244.3 at 3e-3 against 220.5
   * at 1.2e-2).
   */
  private float endToEndLearningRate(double bits) {
    return (float) (recipe.endToEndLearningRate() * Math.pow(2, 4 - bits));
  }

  /**
   * {@code listener} told of windows as part of a schedule of {@code windows}, and of finished
   * blocks only when {@code blocks} is set.
   */
  private static CalibrationListener scheduleOf(CalibrationListener listener, int windows,
      boolean blocks) {
    return new CalibrationListener() {
      @Override
      public void windowDone(WindowReport r) {
        listener.windowDone(new WindowReport(r.index(), windows, r.firstBlock(), r.lastBlock(),
            r.losses(), r.seconds()));
      }

      @Override
      public void blockDone(QuantizedBlock block) {
        if (blocks) {
          listener.blockDone(block);
        }
      }
    };
  }

  /**
   * The streams at block 0: the samples' token embeddings, {@code batchSize} samples per batch.
   * The float and quantized streams start equal, since embeddings stay float.
   */
  public ActivationStreams embed(LlamaWeightSource source, List<int[]> samples) {
    List<Tensor> batches = CalibrationBatches.embed(backend, source, samples, recipe.batchSize());
    return new ActivationStreams(0, batches, batches,
        CalibrationBatches.sampleLength(samples, source.config()));
  }

  /**
   * What a part of a calibration leaves: the blocks it finished, the blocks it trained but
   * handed on, and the streams at the first block it did not finish.
   */
  public record Outcome(List<QuantizedBlock> finished, List<CarriedBlock> carried,
      ActivationStreams next) {}

  /**
   * Runs {@code windows} (consecutive entries of a model's window sequence) from the streams at
   * their first block. Blocks before {@code handOffBlock} are finished; trained blocks from it on
   * are handed on, as are the streams at it. {@code carried} holds the learned state of blocks
   * that an earlier part trained and did not finish. The streams of {@code start} are released
   * once no window needs them (a GPU backend's memory does not wait for the garbage collector).
   */
  public Outcome calibrateWindows(LlamaWeightSource source, ActivationStreams start,
      List<WindowSpan> windows, int handOffBlock, List<CarriedBlock> carried) {
    LlamaConfig config = source.config();
    if (windows.isEmpty() || start.block() != windows.get(0).first()) {
      throw new IllegalArgumentException("the streams are at block " + start.block()
          + " but the windows start at " + (windows.isEmpty() ? "none" : windows.get(0).first()));
    }
    int seqLen = start.seqLen();
    RotaryTables rotary = RotaryTables.of(config, seqLen, backend);
    DecoderBlock block = new DecoderBlock(config, backend, rotary);
    Map<Integer, CarriedBlock> carriedIn = new HashMap<>();
    carried.forEach(c -> carriedIn.put(c.block(), c));
    Map<Integer, BlockWeights> floatBlocks = new HashMap<>();
    Map<Integer, Map<Linear, LayerQuantizer>> quantizers = new HashMap<>();
    List<QuantizedBlock> finished = new ArrayList<>();
    List<Tensor> floatStream = start.floatStream();
    List<Tensor> quantizedStream = start.quantizedStream();
    int streamBlock = start.block();
    for (int w = 0; w < windows.size(); w++) {
      WindowSpan window = windows.get(w);
      long startTime = System.nanoTime();
      // The float stream through the window's blocks: each block's float input, which also
      // gives a new block's activation statistics before its quantizers are made.
      List<List<Tensor>> floatInputs = new ArrayList<>();
      floatInputs.add(floatStream);
      List<BlockWeights> windowFloat = new ArrayList<>();
      List<Map<Linear, LayerQuantizer>> windowQuantizers = new ArrayList<>();
      for (int b = window.first(); b <= window.last(); b++) {
        List<Tensor> blockInputs = floatInputs.get(b - window.first());
        if (!floatBlocks.containsKey(b)) {
          BlockWeights prepared = preprocess(block, source.block(b, backend), blockInputs, seqLen,
              config);
          floatBlocks.put(b, prepared);
          Map<Linear, LayerQuantizer> made = createQuantizers(block, b, prepared, blockInputs,
              seqLen);
          CarriedBlock state = carriedIn.remove(b);
          if (state != null) {
            made.forEach((linear, q) -> q.restore(state.quantizers().get(linear)));
          }
          quantizers.put(b, made);
        }
        windowFloat.add(floatBlocks.get(b));
        windowQuantizers.add(quantizers.get(b));
        floatInputs.add(forward(block, floatBlocks.get(b), blockInputs, seqLen));
      }
      LogitDistillation head = recipe.logitLossWeight() > 0
          && window.last() == config.numLayers() - 1
          ? new LogitDistillation(backend, source.finalNorm(backend), source.lmHead(backend),
              config.rmsNormEps())
          : null;
      WindowLosses losses = new WindowCalibrator(backend, block, recipe).calibrate(windowFloat,
          windowQuantizers, quantizedStream, floatInputs.get(window.size()), seqLen,
          recipe.seed() * 1_000_003L + window.index(), head);
      if (head != null) {
        head.close();
      }

      // Finished: blocks no later window of this part holds, short of the hand-off block.
      int nextFirst = w + 1 < windows.size() ? windows.get(w + 1).first() : handOffBlock;
      int finishThrough = Math.min(Math.min(nextFirst, handOffBlock) - 1, window.last());
      List<BlockWeights> done = new ArrayList<>();
      for (int b = window.first(); b <= finishThrough; b++) {
        QuantizedBlock q = finish(b, floatBlocks.remove(b), quantizers.remove(b));
        finished.add(q);
        done.add(q.dequantized());
        listener.blockDone(q);
      }
      List<Tensor> previousQuantized = quantizedStream;
      if (!done.isEmpty()) {
        quantizedStream = advance(block, done, quantizedStream, seqLen);
        floatStream = floatInputs.get(finishThrough + 1 - window.first());
        streamBlock = finishThrough + 1;
      }
      // Of the window's activations, only the streams at the next window's first block live on.
      List<List<Tensor>> spent = new ArrayList<>(floatInputs);
      spent.add(previousQuantized);
      for (List<Tensor> batches : spent) {
        if (batches != floatStream && batches != quantizedStream) {
          batches.forEach(Tensor::close);
        }
      }
      listener.windowDone(new CalibrationListener.WindowReport(window.index(), windows.size(),
          window.first(), window.last(), losses, (System.nanoTime() - startTime) / 1e9));
    }
    List<CarriedBlock> carriedOut = new ArrayList<>();
    quantizers.keySet().stream().sorted().forEach(b -> {
      Map<Linear, QuantizerState> states = new EnumMap<>(Linear.class);
      quantizers.get(b).forEach((linear, q) -> states.put(linear, q.learnedState()));
      carriedOut.add(new CarriedBlock(b, states));
    });
    // Handed on as states: the next part rebuilds these blocks and their quantizers.
    quantizers.values().forEach(layers -> layers.values().forEach(LayerQuantizer::close));
    floatBlocks.values().forEach(weights -> weights.closeAllBut(null));
    rotary.cos().close();
    rotary.sin().close();
    return new Outcome(finished, carriedOut,
        new ActivationStreams(streamBlock, floatStream, quantizedStream, seqLen));
  }

  /** The linear inputs a finished model quantizes, as evaluation runs them. */
  private LinearInputQuantizer evaluationInputs() {
    return recipe.activationBits() == 0 ? LinearInputQuantizer.NONE
        : ActivationFakeQuantizer.forEvaluation(backend, recipe.activationBits());
  }

  private List<Tensor> forward(DecoderBlock block, BlockWeights weights, List<Tensor> inputs,
      int seqLen) {
    List<Tensor> outputs = new ArrayList<>(inputs.size());
    for (Tensor x : inputs) {
      BlockActivations a = block.forward(weights, x, block.shape(x.rows() / seqLen, seqLen));
      a.releaseIntermediates();
      outputs.add(a.output());
    }
    return outputs;
  }

  /**
   * Pre-processing of a block before its quantizers are made, which leaves its float function
   * unchanged: activation outliers scaled into the weights when activations will be quantized
   * (coarse-to-fine), then per-site channel scales searched against round-to-nearest error.
   * Weight outliers are truncated later, in the quantizers' copy only.
   */
  private BlockWeights preprocess(DecoderBlock block, BlockWeights weights, List<Tensor> inputs,
      int seqLen, LlamaConfig config) {
    BlockWeights prepared = weights;
    if (recipe.activationBits() > 0 && recipe.scaleActivationOutliers()) {
      ChannelMaxima maxima = ChannelMaxima.collect(block, prepared, inputs, seqLen);
      BlockWeights scaled = ActivationOutlierScaling.apply(prepared, config, maxima, backend)
          .weights();
      prepared.closeAllBut(scaled);
      prepared = scaled;
    }
    if (recipe.searchChannelScales()) {
      ChannelMaxima maxima = ChannelMaxima.collect(block, prepared, inputs, seqLen);
      BlockWeights scaled = ChannelScaleSearch.search(block, prepared, inputs, seqLen, config,
          maxima, recipe.scheme(), recipe.activationBits()).fold(prepared, config, backend);
      prepared.closeAllBut(scaled);
      prepared = scaled;
    }
    return prepared;
  }

  private Map<Linear, LayerQuantizer> createQuantizers(DecoderBlock block, int blockIndex,
      BlockWeights weights, List<Tensor> floatInputs, int seqLen) {
    Map<Linear, LayerQuantizer> map = new EnumMap<>(Linear.class);
    map.putAll(layerQuantizers.create(block, blockIndex, weights, floatInputs, seqLen,
        recipe.seed()));
    LearnableLinearQuantizer.LearningRates rates = new LearnableLinearQuantizer.LearningRates(
        recipe.clipLearningRate(), recipe.roundingLearningRate());
    for (Linear linear : Linear.values()) {
      if (map.containsKey(linear)) {
        continue;
      }
      Tensor w = weights.weight(linear);
      if (recipe.truncateWeightOutliers()) {
        w = backend.upload(WeightOutlierTruncation.apply(backend.download(w)).weights(), w.rows(),
            w.cols());
      }
      Float minInitialClip = recipe.learnClipping() ? recipe.minInitialClip() : null;
      Random random = new Random(recipe.seed() * 0x9E3779B97F4A7C15L
          + blockIndex * 31L + linear.ordinal());
      map.put(linear, LearnableLinearQuantizer.create(backend, w, recipe.scheme(),
          minInitialClip, recipe.loraRank(), rates, random));
    }
    return map;
  }

  private QuantizedBlock finish(int index, BlockWeights floatWeights,
      Map<Linear, LayerQuantizer> quantizers) {
    BlockWeights result = floatWeights;
    Map<Linear, QuantizedMatrix> matrices = new EnumMap<>(Linear.class);
    Map<Linear, VqMatrix> vectorQuantized = new EnumMap<>(Linear.class);
    Map<Linear, Double> errors = new EnumMap<>(Linear.class);
    for (Map.Entry<Linear, LayerQuantizer> e : quantizers.entrySet()) {
      FinishedLayer f = e.getValue().finish();
      if (f.uniform() != null) {
        matrices.put(e.getKey(), f.uniform());
      } else {
        vectorQuantized.put(e.getKey(), f.vectorQuantized());
      }
      errors.put(e.getKey(), WeightError.relative(backend.download(floatWeights.weight(e.getKey())),
          backend.download(f.dequantized())));
      result = result.withLinear(e.getKey(), f.dequantized());
    }
    // The float linear weights and the training state are spent; norms and biases live on.
    floatWeights.closeAllBut(result);
    quantizers.values().forEach(LayerQuantizer::close);
    return new QuantizedBlock(index, result, matrices, errors, vectorQuantized);
  }

  /** The quantized stream through the blocks just finished, as the finished model runs them. */
  private List<Tensor> advance(DecoderBlock block, List<BlockWeights> done, List<Tensor> stream,
      int seqLen) {
    BlockWindow window = new BlockWindow(block, done);
    List<Tensor> next = new ArrayList<>(stream.size());
    for (Tensor x : stream) {
      List<BlockActivations> activations = window.forward(x,
          block.shape(x.rows() / seqLen, seqLen), evaluationInputs());
      BlockActivations last = activations.remove(activations.size() - 1);
      last.releaseIntermediates();
      activations.forEach(BlockActivations::close);
      next.add(last.output());
    }
    return next;
  }
}
