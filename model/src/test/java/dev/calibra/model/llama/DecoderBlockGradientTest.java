package dev.calibra.model.llama;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.calibra.model.backend.AttentionShape;
import dev.calibra.model.backend.Backend;
import dev.calibra.model.backend.Tensor;
import dev.calibra.model.cpu.CpuBackend;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.DoubleSupplier;
import org.junit.jupiter.api.Test;

/**
 * Finite-difference checks of a whole decoder block and of a two-block window: the gradient at
 * the input and at every parameter, qwen2-style biases included. Tensors are perturbed through
 * download/upload so the test relies only on the public Backend contract.
 */
class DecoderBlockGradientTest {

  private static final float STEP = 1e-2f;
  private static final double TOLERANCE = 3e-3;
  private final Backend backend = new CpuBackend();
  private final Random random = new Random(7);

  @Test
  void blockGradientsMatchFiniteDifferences() {
    LlamaConfig config = RandomWeights.config(true);
    DecoderBlock block = new DecoderBlock(config, backend, RotaryTables.of(config, 16, backend));
    AttentionShape shape = block.shape(2, 9);
    BlockWeights[] weights = {RandomWeights.block(config, backend, random)};
    Tensor[] input = {RandomWeights.gaussian(backend, random, shape.tokens(), 16, 1.0)};
    float[] r = random(shape.tokens() * 16);

    BlockActivations a = block.forward(weights[0], input[0], shape);
    BlockGradients gradients = BlockGradients.forAllParameters(weights[0], backend);
    Tensor dInput = block.backward(weights[0], a, backend.upload(r, shape.tokens(), 16), gradients);
    DoubleSupplier loss = () -> dot(block.forward(weights[0], input[0], shape).output(), r);

    checkTensor("block input", () -> input[0], t -> input[0] = t, dInput, loss);
    for (Linear linear : Linear.values()) {
      checkTensor(linear.hfName() + ".weight", () -> weights[0].weight(linear),
          t -> weights[0] = weights[0].withLinear(linear, t), gradients.weight(linear), loss);
    }
    for (Linear linear : new Linear[] {Linear.Q, Linear.K, Linear.V}) {
      Tensor bias = weights[0].bias(linear);
      checkInPlace(linear.hfName() + ".bias", bias, gradients.bias(linear), loss);
    }
    checkInPlace("input_layernorm", weights[0].inputNorm(), gradients.inputNorm(), loss);
    checkInPlace("post_attention_layernorm", weights[0].postAttentionNorm(),
        gradients.postAttentionNorm(), loss);
  }

  @Test
  void windowPropagatesGradientsAcrossBlocks() {
    LlamaConfig config = RandomWeights.config(false);
    DecoderBlock block = new DecoderBlock(config, backend, RotaryTables.of(config, 16, backend));
    AttentionShape shape = block.shape(1, 12);
    List<BlockWeights> weights = List.of(RandomWeights.block(config, backend, random),
        RandomWeights.block(config, backend, random));
    BlockWindow window = new BlockWindow(block, weights);
    Tensor[] input = {RandomWeights.gaussian(backend, random, shape.tokens(), 16, 1.0)};
    float[] r = random(shape.tokens() * 16);

    List<BlockActivations> a = window.forward(input[0], shape);
    List<BlockGradients> gradients = new ArrayList<>();
    for (BlockWeights w : weights) {
      gradients.add(BlockGradients.forLinearWeights(w, backend, Linear.Q, Linear.DOWN));
    }
    Tensor dInput = window.backward(a, backend.upload(r, shape.tokens(), 16), gradients);
    DoubleSupplier loss = () -> dot(window.forward(input[0], shape).get(1).output(), r);

    checkTensor("window input", () -> input[0], t -> input[0] = t, dInput, loss);
    // The first block's weights reach the loss only through the second block.
    checkInPlace("block 0 q_proj", weights.get(0).weight(Linear.Q), gradients.get(0).weight(Linear.Q), loss);
    checkInPlace("block 0 down_proj", weights.get(0).weight(Linear.DOWN),
        gradients.get(0).weight(Linear.DOWN), loss);
    checkInPlace("block 1 q_proj", weights.get(1).weight(Linear.Q), gradients.get(1).weight(Linear.Q), loss);
    assertTrue(gradients.get(0).weight(Linear.UP) == null, "unrequested gradients stay absent");
  }

  /** Checks a tensor that is replaced (through a setter) by perturbed copies. */
  private void checkTensor(String name, java.util.function.Supplier<Tensor> get,
      java.util.function.Consumer<Tensor> set, Tensor analytic, DoubleSupplier loss) {
    Tensor original = get.get();
    float[] base = backend.download(original);
    float[] grad = backend.download(analytic);
    double errorSquares = 0;
    double normSquares = 0;
    for (int s = 0; s < 24; s++) {
      int i = random.nextInt(base.length);
      double numeric = numeric(base, i, original, set, loss);
      errorSquares += sq(numeric - grad[i]);
      normSquares += sq(numeric);
    }
    set.accept(original);
    assertAgrees(name, errorSquares, normSquares);
  }

  /** Checks a tensor that the block reads in place (norm weights, biases, shared weights). */
  private void checkInPlace(String name, Tensor tensor, Tensor analytic, DoubleSupplier loss) {
    float[] grad = backend.download(analytic);
    float[] base = backend.download(tensor);
    double errorSquares = 0;
    double normSquares = 0;
    for (int s = 0; s < Math.min(24, base.length); s++) {
      int i = random.nextInt(base.length);
      float[] perturbed = base.clone();
      perturbed[i] = base[i] + STEP;
      backend.copy(backend.upload(perturbed, tensor.rows(), tensor.cols()), tensor);
      double plus = loss.getAsDouble();
      perturbed[i] = base[i] - STEP;
      backend.copy(backend.upload(perturbed, tensor.rows(), tensor.cols()), tensor);
      double minus = loss.getAsDouble();
      backend.copy(backend.upload(base, tensor.rows(), tensor.cols()), tensor);
      double numeric = (plus - minus) / (2 * STEP);
      errorSquares += sq(numeric - grad[i]);
      normSquares += sq(numeric);
    }
    assertAgrees(name, errorSquares, normSquares);
  }

  private double numeric(float[] base, int i, Tensor like, java.util.function.Consumer<Tensor> set,
      DoubleSupplier loss) {
    float[] perturbed = base.clone();
    perturbed[i] = base[i] + STEP;
    set.accept(backend.upload(perturbed, like.rows(), like.cols()));
    double plus = loss.getAsDouble();
    perturbed[i] = base[i] - STEP;
    set.accept(backend.upload(perturbed, like.rows(), like.cols()));
    double minus = loss.getAsDouble();
    return (plus - minus) / (2 * STEP);
  }

  private static void assertAgrees(String name, double errorSquares, double normSquares) {
    assertTrue(normSquares > 0, name + ": sampled gradient is zero");
    double relative = Math.sqrt(errorSquares / normSquares);
    assertTrue(relative < TOLERANCE, name + ": relative error " + relative);
  }

  private double dot(Tensor t, float[] r) {
    float[] values = backend.download(t);
    double sum = 0;
    for (int i = 0; i < values.length; i++) {
      sum += (double) values[i] * r[i];
    }
    return sum;
  }

  private float[] random(int n) {
    float[] values = new float[n];
    for (int i = 0; i < n; i++) {
      values[i] = (float) random.nextGaussian();
    }
    return values;
  }

  private static double sq(double x) {
    return x * x;
  }
}
