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
    assertArrayEquals(expected.value(), actual.value(), 0f);
    assertArrayEquals(expected.firstMoment(), actual.firstMoment(), 0f);
    assertArrayEquals(expected.secondMoment(), actual.secondMoment(), 0f);
  }
}
