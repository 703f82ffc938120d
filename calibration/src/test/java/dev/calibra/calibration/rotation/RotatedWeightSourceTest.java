package dev.calibra.calibration.rotation;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.calibra.calibration.QuantizedWeightSource;
import dev.calibra.calibration.rtn.RoundToNearest;
import dev.calibra.calibration.uniform.QuantizationScheme;
import dev.calibra.model.backend.Backend;
import dev.calibra.model.backend.Tensor;
import dev.calibra.model.cpu.CpuBackend;
import dev.calibra.model.eval.EvaluationWindows;
import dev.calibra.model.eval.PerplexityEvaluator;
import dev.calibra.model.llama.BlockWeights;
import dev.calibra.model.llama.LayerwiseRunner;
import dev.calibra.model.llama.Linear;
import dev.calibra.model.llama.LlamaConfig;
import dev.calibra.model.llama.LlamaWeightSource;
import dev.calibra.model.llama.RopeScaling;
import dev.calibra.storage.hf.ModelDirectory;
import dev.calibra.storage.tokens.TokenIdFiles;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The rotated form of the real shared models: the same function, easier weights. */
class RotatedWeightSourceTest {

  private final CpuBackend backend = new CpuBackend();

  private static Path model(String name) {
    return Path.of(System.getProperty("calibra.shared", "../../shared"), "models", name);
  }

  /**
   * Both models tie their embeddings and have non-trivial norm gains, so every folding rule is
   * exercised (dict-llama-15M also with grouped value heads, 6 query heads on 2).
   */
  @ParameterizedTest
  @ValueSource(strings = {"stories260K", "dict-llama-15M"})
  void computesTheFloatModelsLogits(String name) throws Exception {
    try (ModelDirectory model = ModelDirectory.open(model(name).toString())) {
      LlamaWeightSource original = model.weights();
      Random random = new Random(1);
      List<int[]> sequences = new ArrayList<>();
      for (int s = 0; s < 2; s++) {
        int[] ids = random.ints(96, 0, original.config().vocabSize()).toArray();
        ids[0] = 1;
        sequences.add(ids);
      }
      float[] expected = logits(original, sequences);
      float[] rotated = logits(new RotatedWeightSource(original, 7), sequences);
      double relative = relativeDifference(rotated, expected);
      System.out.printf("%s: rotated logits differ by %.2e relative%n", name, relative);
      assertTrue(relative < 1e-5, name + ": " + relative);
    }
  }

  /**
   * A qwen2-style model (biases on q, k and v, which the shared models lack), random weights:
   * the value bias turns with its head, the others stay.
   */
  @Test
  void computesTheSameLogitsWithAttentionBiases() {
    LlamaConfig config = new LlamaConfig("qwen2", 16, 24, 2, 4, 2, 4, 40, 64, 1e-5f,
        RopeScaling.standard(10000), true, true, 1, 2);
    LlamaWeightSource original = new RandomModel(config, new Random(3));
    List<int[]> sequences = List.of(new Random(4).ints(32, 0, 40).toArray());
    float[] expected = logits(original, sequences);
    float[] rotated = logits(new RotatedWeightSource(original, 9), sequences);
    assertTrue(relativeDifference(rotated, expected) < 1e-5,
        "relative " + relativeDifference(rotated, expected));
  }

  @Test
  void foldsTheNormsAndUntiesTheOutputProjection() throws Exception {
    try (ModelDirectory model = ModelDirectory.open(model("stories260K").toString())) {
      assertTrue(model.config().tieWordEmbeddings());
      RotatedWeightSource rotated = new RotatedWeightSource(model.weights(), 7);
      assertFalse(rotated.config().tieWordEmbeddings());
      float[] ones = new float[model.config().hiddenSize()];
      Arrays.fill(ones, 1f);
      BlockWeights block = rotated.block(2, backend);
      assertArrayEquals(ones, backend.download(block.inputNorm()));
      assertArrayEquals(ones, backend.download(block.postAttentionNorm()));
      assertArrayEquals(ones, backend.download(rotated.finalNorm(backend)));
      assertFalse(Arrays.equals(backend.download(rotated.embedding(backend)),
          backend.download(rotated.lmHead(backend))));
    }
  }

  /**
   * What rotation is for: with every row's weight spread over all columns, a few large weights
   * no longer set the range of their group. stories260K W4 g32 round-to-nearest on the first 8
   * evaluation sequences: 132.5 plain, 104.4 rotated (seed 7).
   */
  @Test
  void roundToNearestLosesLessOnTheRotatedStoriesModel() throws Exception {
    try (ModelDirectory model = ModelDirectory.open(model("stories260K").toString())) {
      List<int[]> evaluation = EvaluationWindows.ofSequences(TokenIdFiles.read(
          model("stories260K").resolve("sequences.json").toString(), "evaluation").subList(0, 8),
          512);
      RoundToNearest w4g32 = new RoundToNearest(new QuantizationScheme(4, 32));
      double plain = perplexity(new QuantizedWeightSource(model.weights(), w4g32, null, b -> { }),
          evaluation);
      double rotated = perplexity(new QuantizedWeightSource(
          new RotatedWeightSource(model.weights(), 7), w4g32, null, b -> { }), evaluation);
      System.out.printf("stories260K w4 g32 RTN: plain %.1f, rotated %.1f%n", plain, rotated);
      assertTrue(rotated < 0.85 * plain, "rotated " + rotated + " against plain " + plain);
    }
  }

  private float[] logits(LlamaWeightSource weights, List<int[]> sequences) {
    int vocab = weights.config().vocabSize();
    int length = sequences.get(0).length;
    float[] all = new float[sequences.size() * length * vocab];
    new LayerwiseRunner(backend, 8192, (i, n, t) -> { }).run(weights, sequences,
        (sequence, first, logits) -> System.arraycopy(backend.download(logits), 0, all,
            (sequence * length + first) * vocab, logits.rows() * vocab));
    return all;
  }

  /** ‖a − b‖ / ‖b‖. */
  private static double relativeDifference(float[] a, float[] b) {
    double difference = 0;
    double size = 0;
    for (int i = 0; i < b.length; i++) {
      difference += Math.pow(a[i] - b[i], 2);
      size += Math.pow(b[i], 2);
    }
    return Math.sqrt(difference / size);
  }

  /** Gaussian weights and biases, norm gains around 1, fixed by the seed given. */
  private static final class RandomModel implements LlamaWeightSource {
    private final LlamaConfig config;
    private final long seed;

    RandomModel(LlamaConfig config, Random random) {
      this.config = config;
      this.seed = random.nextLong();
    }

    @Override
    public LlamaConfig config() {
      return config;
    }

    @Override
    public Tensor embedding(Backend backend) {
      return gaussian(backend, new Random(seed), config.vocabSize(), config.hiddenSize(), 0, 1);
    }

    @Override
    public BlockWeights block(int index, Backend backend) {
      Random random = new Random(seed + 1 + index);
      Map<Linear, Tensor> weights = new EnumMap<>(Linear.class);
      Map<Linear, Tensor> biases = new EnumMap<>(Linear.class);
      for (Linear linear : Linear.values()) {
        int[] shape = config.weightShape(linear);
        weights.put(linear, gaussian(backend, random, shape[0], shape[1], 0,
            1 / Math.sqrt(shape[1])));
        if (linear.takesAttentionBias()) {
          biases.put(linear, gaussian(backend, random, 1, shape[0], 0, 0.3));
        }
      }
      return new BlockWeights(config, gaussian(backend, random, 1, config.hiddenSize(), 1, 0.2),
          gaussian(backend, random, 1, config.hiddenSize(), 1, 0.2), weights, biases);
    }

    @Override
    public Tensor finalNorm(Backend backend) {
      return gaussian(backend, new Random(seed - 1), 1, config.hiddenSize(), 1, 0.2);
    }

    @Override
    public Tensor lmHead(Backend backend) {
      return embedding(backend);
    }

    private static Tensor gaussian(Backend backend, Random random, int rows, int cols,
        double mean, double std) {
      float[] values = new float[rows * cols];
      for (int i = 0; i < values.length; i++) {
        values[i] = (float) (mean + std * random.nextGaussian());
      }
      return backend.upload(values, rows, cols);
    }
  }

  private double perplexity(LlamaWeightSource weights, List<int[]> windows) {
    return new PerplexityEvaluator(new LayerwiseRunner(backend, 8192, (i, n, t) -> { }))
        .evaluate(weights, windows).value();
  }
}
