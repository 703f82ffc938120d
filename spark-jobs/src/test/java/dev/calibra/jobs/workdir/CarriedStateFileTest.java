package dev.calibra.jobs.workdir;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.calibra.calibration.cbq.CarriedBlock;
import dev.calibra.calibration.cbq.ParameterState;
import dev.calibra.calibration.cbq.QuantizerState;
import dev.calibra.model.llama.Linear;
import dev.calibra.storage.FileLocation;
import java.nio.file.Path;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CarriedStateFileTest {

  @TempDir
  Path directory;

  @Test
  void everyParameterComesBackExactlyWithItsStepCount() throws Exception {
    Random random = new Random(3);
    Map<Linear, QuantizerState> block2 = new EnumMap<>(Linear.class);
    Map<Linear, QuantizerState> block3 = new EnumMap<>(Linear.class);
    for (Linear linear : Linear.values()) {
      block2.put(linear, new QuantizerState(state(4, 2, 7, random), state(4, 2, 7, random),
          state(4, 3, 9, random), state(3, 5, 9, random)));
      // A recipe without learned clipping carries only the rounding factors.
      block3.put(linear, new QuantizerState(null, null, state(2, 1, 1, random),
          state(1, 6, 0, random)));
    }
    List<CarriedBlock> written = List.of(new CarriedBlock(2, block2), new CarriedBlock(3, block3));
    FileLocation file = FileLocation.of(directory.resolve("state.arrow").toString(),
        new Configuration());

    CarriedStateFile.write(file, written);
    List<CarriedBlock> read = CarriedStateFile.read(file);

    assertEquals(List.of(2, 3), read.stream().map(CarriedBlock::block).toList());
    for (int b = 0; b < 2; b++) {
      for (Linear linear : Linear.values()) {
        QuantizerState expected = written.get(b).quantizers().get(linear);
        QuantizerState actual = read.get(b).quantizers().get(linear);
        assertSame(expected.clipLower(), actual.clipLower());
        assertSame(expected.clipUpper(), actual.clipUpper());
        assertSame(expected.loraA(), actual.loraA());
        assertSame(expected.loraB(), actual.loraB());
      }
    }
  }

  @Test
  void vectorQuantizedLayersComeBackBitForBitBesideUniformOnes() throws Exception {
    Random random = new Random(5);
    Map<Linear, QuantizerState> mixed = new EnumMap<>(Linear.class);
    for (Linear linear : Linear.values()) {
      // A mixed recipe: the MLP vector-quantized (d4 k4 with 3 candidates: logits per
      // sub-vector and candidate, 16 codewords of 4), attention uniform.
      boolean mlp = linear == Linear.GATE || linear == Linear.UP || linear == Linear.DOWN;
      mixed.put(linear, mlp
          ? QuantizerState.vectorQuantized(state(64 * 16, 3, 11, random), state(16, 4, 11, random))
          : new QuantizerState(state(4, 2, 7, random), state(4, 2, 7, random),
              state(4, 3, 9, random), state(3, 5, 9, random)));
    }
    Map<Linear, QuantizerState> fixedCodebook = new EnumMap<>(Linear.class);
    for (Linear linear : Linear.values()) {
      // A codebook learning rate of 0 trains the logits alone.
      fixedCodebook.put(linear, QuantizerState.vectorQuantized(state(8, 2, 4, random), null));
    }
    // Values whose bits a careless conversion would lose.
    mixed.get(Linear.DOWN).codebook().value()[0] = -0.0f;
    mixed.get(Linear.DOWN).codebook().value()[1] = Float.MIN_VALUE;
    mixed.get(Linear.DOWN).assignmentLogits().value()[2] = Float.intBitsToFloat(0x7fc00001);
    List<CarriedBlock> written = List.of(new CarriedBlock(1, mixed),
        new CarriedBlock(2, fixedCodebook));
    FileLocation file = FileLocation.of(directory.resolve("vq.arrow").toString(),
        new Configuration());

    CarriedStateFile.write(file, written);
    List<CarriedBlock> read = CarriedStateFile.read(file);

    assertEquals(List.of(1, 2), read.stream().map(CarriedBlock::block).toList());
    for (int b = 0; b < 2; b++) {
      for (Linear linear : Linear.values()) {
        QuantizerState expected = written.get(b).quantizers().get(linear);
        QuantizerState actual = read.get(b).quantizers().get(linear);
        assertSame(expected.clipLower(), actual.clipLower());
        assertSame(expected.clipUpper(), actual.clipUpper());
        assertSame(expected.loraA(), actual.loraA());
        assertSame(expected.loraB(), actual.loraB());
        assertSame(expected.assignmentLogits(), actual.assignmentLogits());
        assertSame(expected.codebook(), actual.codebook());
      }
    }
  }

  @Test
  void aBlockThatLearnedNothingIsStillCarried() throws Exception {
    Map<Linear, QuantizerState> nothing = new EnumMap<>(Linear.class);
    for (Linear linear : Linear.values()) {
      nothing.put(linear, new QuantizerState(null, null, null, null));
    }
    FileLocation file = FileLocation.of(directory.resolve("empty.arrow").toString(),
        new Configuration());

    CarriedStateFile.write(file, List.of(new CarriedBlock(4, nothing)));
    List<CarriedBlock> read = CarriedStateFile.read(file);

    assertEquals(1, read.size());
    assertEquals(4, read.get(0).block());
    assertNull(read.get(0).quantizers().get(Linear.DOWN).loraA());
  }

  private static ParameterState state(int rows, int cols, int steps, Random random) {
    int n = rows * cols;
    return new ParameterState(rows, cols, floats(n, random), floats(n, random), floats(n, random),
        steps);
  }

  private static float[] floats(int n, Random random) {
    float[] values = new float[n];
    for (int i = 0; i < n; i++) {
      values[i] = (float) random.nextGaussian();
    }
    return values;
  }

  private static void assertSame(ParameterState expected, ParameterState actual) {
    if (expected == null) {
      assertNull(actual);
      return;
    }
    assertEquals(expected.rows(), actual.rows());
    assertEquals(expected.cols(), actual.cols());
    assertEquals(expected.steps(), actual.steps());
    assertArrayEquals(bits(expected.value()), bits(actual.value()));
    assertArrayEquals(bits(expected.firstMoment()), bits(actual.firstMoment()));
    assertArrayEquals(bits(expected.secondMoment()), bits(actual.secondMoment()));
  }

  private static int[] bits(float[] values) {
    int[] bits = new int[values.length];
    for (int i = 0; i < values.length; i++) {
      bits[i] = Float.floatToRawIntBits(values[i]);
    }
    return bits;
  }
}
