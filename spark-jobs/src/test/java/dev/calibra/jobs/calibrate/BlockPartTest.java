package dev.calibra.jobs.calibrate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.calibra.calibration.QuantizedBlock;
import dev.calibra.calibration.uniform.QuantizationScheme;
import dev.calibra.calibration.uniform.QuantizedMatrix;
import dev.calibra.calibration.vq.Float16;
import dev.calibra.calibration.vq.VqMatrix;
import dev.calibra.jobs.artifact.PartBlocks;
import dev.calibra.model.backend.Backend;
import dev.calibra.model.backend.Tensor;
import dev.calibra.model.cpu.CpuBackend;
import dev.calibra.model.llama.BlockWeights;
import dev.calibra.model.llama.Linear;
import dev.calibra.model.llama.LlamaConfig;
import dev.calibra.partitioning.Schedule;
import dev.calibra.storage.FileLocation;
import dev.calibra.storage.hf.ModelDirectory;
import java.nio.file.Path;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Blocks written as a part file and read back ({@link PartBlocks}): every matrix bit for bit,
 * of every kind a part holds (uniform in groups and per channel, VQ with one codebook and
 * without row scales, with a codebook per 64 rows and row scales), on stories260K's shapes.
 */
class BlockPartTest {

  @TempDir
  Path directory;

  @Test
  void aPartReadBackGivesTheBlocksItWasWrittenFromBitForBit() throws Exception {
    Backend backend = new CpuBackend();
    StoriesJob job = StoriesJob.create(directory, Schedule.SEQUENTIAL);
    FileLocation part = FileLocation.of(directory.resolve("part.arrow").toString(),
        new Configuration());
    List<QuantizedBlock> written;
    LlamaConfig config;
    try (ModelDirectory model = ModelDirectory.open(StoriesJob.model().toString())) {
      config = model.config();
      Random random = new Random(3);
      written = List.of(block(3, config, backend, random), block(4, config, backend, random));
      BlockPart.write(part, written, model, job.spec(), backend);
    }

    List<QuantizedBlock> read = PartBlocks.read(part, config, backend);

    assertEquals(2, read.size());
    for (int i = 0; i < 2; i++) {
      QuantizedBlock expected = written.get(i);
      QuantizedBlock actual = read.get(i);
      assertEquals(expected.index(), actual.index());
      assertEquals(expected.matrices().keySet(), actual.matrices().keySet());
      assertEquals(expected.vectorQuantized().keySet(), actual.vectorQuantized().keySet());
      expected.matrices().forEach((linear, m) -> {
        QuantizedMatrix r = actual.matrices().get(linear);
        assertEquals(m.scheme(), r.scheme(), linear.hfName());
        assertArrayEquals(m.codes(), r.codes(), linear.hfName());
        assertArrayEquals(m.scales(), r.scales(), 0f, linear.hfName());
        assertArrayEquals(m.zeros(), r.zeros(), linear.hfName());
        assertArrayEquals(m.dequantize(), backend.download(actual.dequantized().weight(linear)),
            0f, linear.hfName());
      });
      expected.vectorQuantized().forEach((linear, m) -> {
        VqMatrix r = actual.vectorQuantized().get(linear);
        assertEquals(List.of(m.rows(), m.cols(), m.dim(), m.indexBits(), m.codebookRows()),
            List.of(r.rows(), r.cols(), r.dim(), r.indexBits(), r.codebookRows()),
            linear.hfName());
        assertArrayEquals(m.codebook(), r.codebook(), linear.hfName());
        assertArrayEquals(m.indices(), r.indices(), linear.hfName());
        if (m.rowScales() == null) {
          assertNull(r.rowScales(), linear.hfName());
        } else {
          assertArrayEquals(m.rowScales(), r.rowScales(), 0f, linear.hfName());
        }
      });
      assertArrayEquals(backend.download(expected.dequantized().inputNorm()),
          backend.download(actual.dequantized().inputNorm()), 0f);
      assertArrayEquals(backend.download(expected.dequantized().postAttentionNorm()),
          backend.download(actual.dequantized().postAttentionNorm()), 0f);
    }
  }

  /**
   * Attention uniform (q in groups of 32, k per channel, v and o 3-bit in groups of 16), gate
   * and down VQ with one codebook and no row scales, up VQ with a codebook per 64 of its 172
   * rows and float16 row scales.
   */
  private static QuantizedBlock block(int index, LlamaConfig config, Backend backend,
      Random random) {
    Map<Linear, QuantizedMatrix> matrices = new EnumMap<>(Linear.class);
    Map<Linear, VqMatrix> vq = new EnumMap<>(Linear.class);
    Map<Linear, Tensor> weights = new EnumMap<>(Linear.class);
    for (Linear linear : Linear.values()) {
      int rows = config.weightShape(linear)[0];
      int cols = config.weightShape(linear)[1];
      float[] dequantized;
      switch (linear) {
        case Q, K, V, O -> {
          QuantizationScheme scheme = switch (linear) {
            case Q -> new QuantizationScheme(4, 32);
            case K -> new QuantizationScheme(4, QuantizationScheme.PER_CHANNEL);
            default -> new QuantizationScheme(3, 16);
          };
          int groups = rows * scheme.groupsPerRow(cols);
          byte[] codes = new byte[rows * cols];
          float[] scales = new float[groups];
          int[] zeros = new int[groups];
          for (int i = 0; i < codes.length; i++) {
            codes[i] = (byte) random.nextInt(1 << scheme.bits());
          }
          for (int g = 0; g < groups; g++) {
            scales[g] = random.nextFloat() * 0.1f;
            zeros[g] = random.nextInt(1 << scheme.bits());
          }
          QuantizedMatrix m = new QuantizedMatrix(scheme, rows, cols, codes, scales, zeros);
          matrices.put(linear, m);
          dequantized = m.dequantize();
        }
        default -> {
          int codebookRows = linear == Linear.UP ? 64 : rows;
          int codebooks = (rows + codebookRows - 1) / codebookRows;
          int dim = 4;
          int indexBits = 6;
          short[] codebook = new short[codebooks * (1 << indexBits) * dim];
          for (int i = 0; i < codebook.length; i++) {
            codebook[i] = Float16.fromFloat((float) random.nextGaussian() * 0.05f);
          }
          int[] indices = new int[rows * (cols / dim)];
          for (int i = 0; i < indices.length; i++) {
            indices[i] = random.nextInt(1 << indexBits);
          }
          float[] rowScales = null;
          if (linear == Linear.UP) {
            rowScales = new float[rows];
            for (int r = 0; r < rows; r++) {
              rowScales[r] = Float16.round(0.5f + random.nextFloat());
            }
          }
          VqMatrix m = new VqMatrix(rows, cols, dim, indexBits, codebookRows, codebook, indices,
              rowScales);
          vq.put(linear, m);
          dequantized = m.dequantize();
        }
      }
      weights.put(linear, backend.upload(dequantized, rows, cols));
    }
    BlockWeights dequantized = new BlockWeights(config, norm(config, backend, random),
        norm(config, backend, random), weights, Map.of());
    return new QuantizedBlock(index, dequantized, matrices, Map.of(), vq);
  }

  private static Tensor norm(LlamaConfig config, Backend backend, Random random) {
    float[] values = new float[config.hiddenSize()];
    for (int i = 0; i < values.length; i++) {
      values[i] = 1 + (float) random.nextGaussian() * 0.1f;
    }
    return backend.upload(values, 1, values.length);
  }
}
