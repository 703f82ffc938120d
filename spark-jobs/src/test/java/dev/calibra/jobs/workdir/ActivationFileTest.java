package dev.calibra.jobs.workdir;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.calibra.calibration.cbq.ActivationStreams;
import dev.calibra.model.backend.Tensor;
import dev.calibra.model.cpu.CpuBackend;
import dev.calibra.storage.FileContentException;
import dev.calibra.storage.FileLocation;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ActivationFileTest {

  private final CpuBackend backend = new CpuBackend();

  @TempDir
  Path directory;

  @Test
  void bothStreamsComeBackBitForBitWithTheirBlockAndSequenceLength() throws Exception {
    List<Tensor> floats = List.of(tensor(3 * 4, 5, 1), tensor(1 * 4, 5, 2));
    List<Tensor> quantized = List.of(tensor(3 * 4, 5, 3), tensor(1 * 4, 5, 4));
    FileLocation file = location("block-7.arrow");

    ActivationFile.write(file, new ActivationStreams(7, floats, quantized, 4), backend);
    ActivationStreams read = ActivationFile.read(file, backend);

    assertEquals(7, read.block());
    assertEquals(4, read.seqLen());
    assertEquals(2, read.floatStream().size());
    for (int i = 0; i < 2; i++) {
      assertBits(floats.get(i), read.floatStream().get(i));
      assertBits(quantized.get(i), read.quantizedStream().get(i));
    }
  }

  @Test
  void equalStreamsAreStoredOnceAndReadBackAsOneList() throws Exception {
    List<Tensor> floats = List.of(tensor(8, 3, 5));
    FileLocation file = location("capture.arrow");

    ActivationFile.write(file, new ActivationStreams(0, floats, floats, 8), backend);
    ActivationStreams read = ActivationFile.read(file, backend);

    assertBits(floats.get(0), read.floatStream().get(0));
    assertSame(read.floatStream().get(0), read.quantizedStream().get(0));
    long twoStreams = Files.size(write("two.arrow", floats, List.of(tensor(8, 3, 6))));
    assertTrue(Files.size(directory.resolve("capture.arrow")) < twoStreams);
  }

  @Test
  void specialFloatValuesKeepTheirExactBits() throws Exception {
    float[] values = {Float.intBitsToFloat(0x7fc00123), -0f, Float.MIN_VALUE,
        Float.NEGATIVE_INFINITY, Float.MAX_VALUE, 1e-40f};
    Tensor special = backend.upload(values, 2, 3);
    FileLocation file = location("special.arrow");

    ActivationFile.write(file, new ActivationStreams(1, List.of(special), List.of(special), 2),
        backend);

    assertBits(special, ActivationFile.read(file, backend).floatStream().get(0));
  }

  @Test
  void aFileOfAnotherKindIsRefusedByName() throws Exception {
    FileLocation file = location("carried.arrow");
    CarriedStateFile.write(file, List.of());

    FileContentException e = assertThrows(FileContentException.class,
        () -> ActivationFile.read(file, backend));
    assertTrue(e.getMessage().contains("not a Calibra activation file"), e.getMessage());
  }

  @Test
  void aRewrittenFileIsReplacedWholeAndLeavesNoTemporaries() throws Exception {
    write("again.arrow", List.of(tensor(4, 2, 1)), List.of(tensor(4, 2, 2)));
    write("again.arrow", List.of(tensor(4, 2, 3)), List.of(tensor(4, 2, 4)));

    assertBits(tensor(4, 2, 3), ActivationFile.read(location("again.arrow"), backend)
        .floatStream().get(0));
    try (var files = Files.list(directory)) {
      assertEquals(List.of("again.arrow"), files.map(p -> p.getFileName().toString()).toList());
    }
  }

  private Path write(String name, List<Tensor> floats, List<Tensor> quantized) throws Exception {
    ActivationFile.write(location(name), new ActivationStreams(0, floats, quantized,
        floats.get(0).rows()), backend);
    return directory.resolve(name);
  }

  private FileLocation location(String name) throws Exception {
    return FileLocation.of(directory.resolve(name).toString(), new Configuration());
  }

  private Tensor tensor(int rows, int cols, long seed) {
    Random random = new Random(seed);
    float[] values = new float[rows * cols];
    for (int i = 0; i < values.length; i++) {
      values[i] = (float) random.nextGaussian();
    }
    return backend.upload(values, rows, cols);
  }

  private void assertBits(Tensor expected, Tensor actual) {
    assertEquals(expected.shapeText(), actual.shapeText());
    float[] e = backend.download(expected);
    float[] a = backend.download(actual);
    int[] eb = new int[e.length];
    int[] ab = new int[a.length];
    for (int i = 0; i < e.length; i++) {
      eb[i] = Float.floatToRawIntBits(e[i]);
      ab[i] = Float.floatToRawIntBits(a[i]);
    }
    assertArrayEquals(eb, ab);
  }
}
