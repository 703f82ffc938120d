package dev.calibra.jobs.artifact;

import dev.calibra.calibration.QuantizedBlock;
import dev.calibra.calibration.uniform.QuantizationScheme;
import dev.calibra.calibration.uniform.QuantizedMatrix;
import dev.calibra.calibration.vq.VqMatrix;
import dev.calibra.model.backend.Backend;
import dev.calibra.model.backend.Tensor;
import dev.calibra.model.cpu.CpuBackend;
import dev.calibra.model.llama.BlockWeights;
import dev.calibra.model.llama.Linear;
import dev.calibra.model.llama.LlamaWeightSource;
import dev.calibra.storage.artifact.ArtifactTensor;
import dev.calibra.storage.artifact.BitPacking;
import dev.calibra.storage.artifact.FloatPayload;
import dev.calibra.storage.artifact.UniformPayload;
import dev.calibra.storage.artifact.VqPayload;
import dev.calibra.storage.hf.HfTensorNames;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/** Turns calibration results and a model's float tensors into artifact rows. */
public final class ArtifactTensors {

  private ArtifactTensors() {}

  /**
   * A quantized matrix as a uniform row: codes packed, scales and zero points as they are, and
   * per group the range its weights were clipped to.
   */
  public static ArtifactTensor uniform(String name, int block, QuantizedMatrix matrix) {
    QuantizationScheme scheme = matrix.scheme();
    int groupSize = scheme.groupSize() == QuantizationScheme.PER_CHANNEL
        ? UniformPayload.PER_CHANNEL : scheme.groupSize();
    return new ArtifactTensor(name, block, new int[] {matrix.rows(), matrix.cols()},
        new UniformPayload(scheme.bits(), groupSize, BitPacking.pack(matrix.codes(), scheme.bits()),
            matrix.scales(), matrix.zeros(), clipRanges(matrix)));
  }

  /** The quantized matrix a uniform row was written from ({@link #uniform}), bit for bit. */
  public static QuantizedMatrix uniformMatrix(ArtifactTensor tensor) {
    UniformPayload payload = (UniformPayload) tensor.payload();
    int groupSize = payload.groupSize() == UniformPayload.PER_CHANNEL
        ? QuantizationScheme.PER_CHANNEL : payload.groupSize();
    return new QuantizedMatrix(new QuantizationScheme(payload.bits(), groupSize), tensor.rows(),
        tensor.cols(), BitPacking.unpackBytes(payload.packedCodes(), payload.bits(),
            tensor.rows() * tensor.cols()), payload.scales(), payload.zeroPoints());
  }

  /**
   * (low, high) per group: the weights of codes 0 and 2^bits − 1, computed as the dequantizer
   * does. Learned clipping (or round-to-nearest's min/max) ends up as this range; every weight
   * outside it was clipped to its nearer end.
   */
  private static float[] clipRanges(QuantizedMatrix matrix) {
    float[] scales = matrix.scales();
    int[] zeros = matrix.zeros();
    int maxCode = (1 << matrix.scheme().bits()) - 1;
    float[] ranges = new float[2 * scales.length];
    for (int g = 0; g < scales.length; g++) {
      ranges[2 * g] = scales[g] * (float) (0 - zeros[g]);
      ranges[2 * g + 1] = scales[g] * (float) (maxCode - zeros[g]);
    }
    return ranges;
  }

  /**
   * A vector-quantized matrix as a vq row: the float16 codebooks, the assignment indices packed at
   * the index width, the row scales as they are (float16 values held in float32), and the rows
   * per codebook only when there are several codebooks (so that a one-codebook row reads as in
   * format 1.0).
   */
  public static ArtifactTensor vq(String name, int block, VqMatrix matrix) {
    return new ArtifactTensor(name, block, new int[] {matrix.rows(), matrix.cols()},
        new VqPayload(matrix.indexBits(), matrix.dim(), matrix.codebook(),
            BitPacking.pack(matrix.indices(), matrix.indexBits()), matrix.rowScales(),
            matrix.codebooks() == 1 ? null : matrix.codebookRows()));
  }

  /**
   * The VQ matrix a vq row was written from ({@link #vq}), bit for bit: a row without rows per
   * codebook has one codebook for all its rows.
   */
  public static VqMatrix vqMatrix(ArtifactTensor tensor) {
    VqPayload payload = (VqPayload) tensor.payload();
    int rows = tensor.rows();
    int cols = tensor.cols();
    return new VqMatrix(rows, cols, payload.dim(), payload.indexBits(),
        payload.codebookRows() == null ? rows : payload.codebookRows(), payload.codebook(),
        BitPacking.unpack(payload.packedIndices(), payload.indexBits(), rows * (cols
            / payload.dim())), payload.rowScales());
  }

  /**
   * The tensors outside blocks, float, as {@code weights} gives them (a rotated model's differ
   * from its checkpoint's): embedding, final norm and, unless {@code headWritten} (a quantized
   * output projection the caller writes itself) or the model ties it to the embedding, the
   * output projection. Handed to {@code out} one at a time, so that only one is held.
   */
  public static void outsideBlocks(LlamaWeightSource weights, boolean headWritten,
      TensorSink out) throws IOException {
    CpuBackend cpu = new CpuBackend();
    out.write(matrix(HfTensorNames.EMBEDDING, weights.embedding(cpu), cpu));
    out.write(vector(HfTensorNames.FINAL_NORM, ArtifactTensor.NO_BLOCK, weights.finalNorm(cpu),
        cpu));
    if (!headWritten && !weights.config().tieWordEmbeddings()) {
      out.write(matrix(HfTensorNames.LM_HEAD, weights.lmHead(cpu), cpu));
    }
  }

  /** Where {@link #outsideBlocks} puts its rows: an artifact writer's {@code write}. */
  public interface TensorSink {
    void write(ArtifactTensor tensor) throws IOException;
  }

  /**
   * The tensors of a quantized block, in artifact order: the two norms, then per linear layer its
   * uniform or vector-quantized weight and, where the model has one, its bias. Float tensors are taken from the
   * block's own weights (downloaded from {@code backend}), as the quantized model runs them.
   */
  public static List<ArtifactTensor> block(QuantizedBlock block, Backend backend) {
    int b = block.index();
    BlockWeights weights = block.dequantized();
    List<ArtifactTensor> tensors = new ArrayList<>();
    tensors.add(vector(HfTensorNames.inputNorm(b), b, weights.inputNorm(), backend));
    tensors.add(vector(HfTensorNames.postAttentionNorm(b), b, weights.postAttentionNorm(), backend));
    for (Linear linear : Linear.values()) {
      String name = HfTensorNames.weight(b, linear);
      VqMatrix vq = block.vectorQuantized().get(linear);
      tensors.add(vq != null ? vq(name, b, vq) : uniform(name, b, block.matrices().get(linear)));
      if (weights.bias(linear) != null) {
        tensors.add(vector(HfTensorNames.bias(b, linear), b, weights.bias(linear), backend));
      }
    }
    return tensors;
  }

  /** A float table outside blocks (embedding, output projection), [rows, cols]. */
  private static ArtifactTensor matrix(String name, Tensor tensor, Backend backend) {
    return new ArtifactTensor(name, ArtifactTensor.NO_BLOCK,
        new int[] {tensor.rows(), tensor.cols()}, new FloatPayload(backend.download(tensor)));
  }

  /** A 1×n tensor stored with the one-dimensional shape Hugging Face gives norms and biases. */
  private static ArtifactTensor vector(String name, int block, Tensor tensor, Backend backend) {
    return new ArtifactTensor(name, block, new int[] {tensor.cols()},
        new FloatPayload(backend.download(tensor)));
  }
}
