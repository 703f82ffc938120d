package dev.calibra.calibration.vq;

import dev.calibra.calibration.cbq.FinishedLayer;
import dev.calibra.calibration.cbq.LayerQuantizer;
import dev.calibra.calibration.cbq.Parameter;
import dev.calibra.calibration.cbq.QuantizerState;
import dev.calibra.model.backend.Backend;
import dev.calibra.model.backend.IndexTensors;
import dev.calibra.model.backend.SoftVqAssignment;
import dev.calibra.model.backend.Tensor;
import dev.calibra.model.backend.WeightedSubVectors;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The vector quantization of one linear layer as a CBQ window trains it, after VQ4DiT's
 * assignment calibration:
 *
 * <ol>
 *   <li>the codebook (of the layer, or of each group of rows) is fitted by weighted k-means
 *       ({@link CodebookFitter}) to the rows divided by their scales, weighted by the input's
 *       channel second moments and the squared scales, and rounded to float16;
 *   <li>each sub-vector keeps its n nearest codewords as candidates, with learnable logits (the
 *       nearest starting ahead), and its soft weight is the softmax mix of its candidates at the
 *       window's temperature, times the row scale;
 *   <li>the window's reconstruction loss trains the logits and the codebook; as the temperature
 *       falls the mix sharpens into one candidate;
 *   <li>finishing fixes each sub-vector to its candidate of largest logit and rounds the
 *       codebook to float16 again.
 * </ol>
 */
public final class VqLayerQuantizer implements LayerQuantizer {

  private final Backend backend;
  private final VqSettings settings;
  private final int rows;
  private final int cols;
  private final int codebookRows;
  private final int[] candidates;
  private final Tensor candidateTensor;
  private final Parameter logits;
  private final Parameter trainedCodebook;
  private final Tensor fixedCodebook;
  private final Tensor rowScales;
  private final float[] rowScaleValues;
  private final Tensor useOffsets;
  private final Tensor uses;
  private final Tensor quantized;
  private float temperature = 1f;

  private VqLayerQuantizer(Backend backend, VqSettings settings, int rows, int cols,
      int codebookRows, int[] candidates, Tensor candidateTensor, Parameter logits,
      Parameter trainedCodebook, Tensor fixedCodebook, float[] rowScaleValues, Tensor useOffsets,
      Tensor uses) {
    this.backend = backend;
    this.settings = settings;
    this.rows = rows;
    this.cols = cols;
    this.codebookRows = codebookRows;
    this.candidates = candidates;
    this.candidateTensor = candidateTensor;
    this.logits = logits;
    this.trainedCodebook = trainedCodebook;
    this.fixedCodebook = fixedCodebook;
    this.rowScaleValues = rowScaleValues;
    this.rowScales = rowScaleValues == null ? null : backend.upload(rowScaleValues, rows, 1);
    this.useOffsets = useOffsets;
    this.uses = uses;
    this.quantized = backend.zeros(rows, cols);
  }

  /**
   * Fits the layer's codebooks (one, or one per group of rows) and sets up its candidates.
   *
   * @param weight the layer's float weight, rows × cols (read, not kept)
   * @param channelWeights the k-means weight of each input column (see
   *     {@link ChannelSecondMoments#weightsOf})
   * @param seed seeds the k-means++ draws
   */
  public static VqLayerQuantizer create(Backend backend, Tensor weight, float[] channelWeights,
      VqSettings settings, VqTraining training, long seed) {
    int rows = weight.rows();
    int cols = weight.cols();
    int dim = settings.dim();
    if (cols % dim != 0) {
      throw new IllegalArgumentException("rows of " + cols + " cannot be cut into sub-vectors of "
          + dim + ": pick a dimension that divides every VQ layer's input size");
    }
    float[] w = backend.download(weight);
    float[] scales = settings.rowScales() ? rowScales(w, rows, cols) : null;
    float[] x = scales == null ? w : divideRows(w, scales, cols);
    float[] rowWeights = null;
    if (scales != null) {
      rowWeights = new float[rows];
      for (int r = 0; r < rows; r++) {
        rowWeights[r] = scales[r] * scales[r];
      }
    }
    int entries = settings.entries();
    int groupRows = settings.codebookRowsOf(rows);
    int codebooks = (rows + groupRows - 1) / groupRows;
    int n = Math.min(training.candidates(), entries);
    int perRow = cols / dim;
    int count = rows * perRow;
    float[] codebook = new float[codebooks * entries * dim];
    int[] candidates = new int[count * n];
    // Each group of rows is its own k-means problem; its candidates index the group's part of
    // the concatenated codebooks, so that the window trains all of them as one.
    for (int g = 0; g < codebooks; g++) {
      int first = g * groupRows;
      int groupSize = Math.min(groupRows, rows - first);
      float[] xGroup = Arrays.copyOfRange(x, first * cols, (first + groupSize) * cols);
      float[] fGroup = rowWeights == null ? null
          : Arrays.copyOfRange(rowWeights, first, first + groupSize);
      CodebookFitter.Fit fit = CodebookFitter.fit(backend, xGroup, groupSize, cols, dim, entries,
          channelWeights, fGroup, seed + g * 0x9E3779B97F4A7C15L, training.kMeans());
      float[] book = fit.codebook();
      for (int i = 0; i < book.length; i++) {
        codebook[g * entries * dim + i] = Float16.round(book[i]);
      }
      try (Tensor groupBook = backend.upload(Arrays.copyOfRange(codebook, g * entries * dim,
          (g + 1) * entries * dim), entries, dim)) {
        int[] nearest = nearest(backend, xGroup, groupSize, cols, dim, channelWeights, fGroup,
            groupBook, n);
        for (int i = 0; i < nearest.length; i++) {
          candidates[first * perRow * n + i] = g * entries + nearest[i];
        }
      }
    }
    float[] initialLogits = new float[count * n];
    for (int i = 0; i < count; i++) {
      initialLogits[i * n] = training.initialLogit();
    }
    Parameter logits = new Parameter(backend, backend.upload(initialLogits, count, n),
        training.logitLearningRate());
    Tensor book = backend.upload(codebook, codebooks * entries, dim);
    Parameter trainedCodebook = null;
    Tensor useOffsets = null;
    Tensor uses = null;
    if (training.codebookLearningRate() > 0) {
      trainedCodebook = new Parameter(backend, book, training.codebookLearningRate());
      book = null;
      int[][] csr = SoftVqAssignment.codewordUses(candidates, codebooks * entries);
      useOffsets = IndexTensors.upload(backend, csr[0], 1, codebooks * entries + 1);
      uses = IndexTensors.upload(backend, csr[1], 1, csr[1].length);
    }
    return new VqLayerQuantizer(backend, settings, rows, cols, groupRows, candidates,
        IndexTensors.upload(backend, candidates, count, n), logits, trainedCodebook, book, scales,
        useOffsets, uses);
  }

  /** Each row's RMS rounded to float16 (1 for an all-zero row), so that it stores in 16 bits. */
  static float[] rowScales(float[] w, int rows, int cols) {
    float[] scales = new float[rows];
    for (int r = 0; r < rows; r++) {
      double squares = 0;
      for (int c = 0; c < cols; c++) {
        squares += (double) w[r * cols + c] * w[r * cols + c];
      }
      float rms = Float16.round((float) Math.sqrt(squares / cols));
      scales[r] = rms > 0 && Float.isFinite(rms) ? rms : 1f;
    }
    return scales;
  }

  private static float[] divideRows(float[] w, float[] scales, int cols) {
    float[] x = new float[w.length];
    for (int i = 0; i < w.length; i++) {
      x[i] = w[i] / scales[i / cols];
    }
    return x;
  }

  /** The n nearest codewords of every sub-vector under the k-means objective's distance. */
  private static int[] nearest(Backend backend, float[] x, int rows, int cols, int dim,
      float[] channelWeights, float[] rowWeights, Tensor codebook, int n) {
    Tensor weight = backend.upload(x, rows, cols);
    Tensor h = backend.upload(channelWeights, 1, cols);
    Tensor f = rowWeights == null ? null : backend.upload(rowWeights, rows, 1);
    Tensor indices = backend.zeros(rows * (cols / dim), n);
    // The objective this returns is not wanted; any exponent that cannot overflow will do.
    backend.nearestCodewords(new WeightedSubVectors(weight, dim, h, f), codebook, indices, 0);
    int[] result = IndexTensors.download(backend, indices);
    for (Tensor t : new Tensor[] {weight, h, f, indices}) {
      if (t != null) {
        t.close();
      }
    }
    return result;
  }

  private Tensor codebook() {
    return trainedCodebook != null ? trainedCodebook.value() : fixedCodebook;
  }

  private SoftVqAssignment assignment() {
    return new SoftVqAssignment(rows, cols, settings.dim(), candidateTensor, logits.value(),
        temperature, codebook(), rowScales, useOffsets, uses);
  }

  @Override
  public Tensor fakeQuantize(float temperature) {
    this.temperature = temperature;
    backend.softVqWeights(assignment(), quantized);
    return quantized;
  }

  @Override
  public double backward(Tensor weightGradient, float regularizerWeight, float beta) {
    backend.softVqWeightsBackward(assignment(), weightGradient, logits.gradient(),
        trainedCodebook == null ? null : trainedCodebook.gradient());
    return 0;
  }

  @Override
  public List<Parameter> parameters() {
    List<Parameter> parameters = new ArrayList<>(2);
    parameters.add(logits);
    if (trainedCodebook != null) {
      parameters.add(trainedCodebook);
    }
    return parameters;
  }

  /**
   * Each sub-vector fixed to its candidate of largest logit (the nearest on ties), as an index
   * into its row's codebook.
   */
  @Override
  public FinishedLayer finish() {
    float[] l = backend.download(logits.value());
    int n = logits.value().cols();
    int perRow = cols / settings.dim();
    int[] indices = new int[l.length / n];
    for (int i = 0; i < indices.length; i++) {
      int best = 0;
      for (int c = 1; c < n; c++) {
        if (l[i * n + c] > l[i * n + best]) {
          best = c;
        }
      }
      int firstEntry = i / perRow / codebookRows * settings.entries();
      indices[i] = candidates[i * n + best] - firstEntry;
    }
    float[] book = backend.download(codebook());
    short[] halves = new short[book.length];
    for (int i = 0; i < book.length; i++) {
      halves[i] = Float16.fromFloat(book[i]);
    }
    VqMatrix matrix = new VqMatrix(rows, cols, settings.dim(), settings.indexBits(),
        codebookRows, halves, indices, rowScaleValues == null ? null : rowScaleValues.clone());
    return new FinishedLayer(backend.upload(matrix.dequantize(), rows, cols), null, matrix);
  }

  @Override
  public QuantizerState learnedState() {
    return QuantizerState.vectorQuantized(logits.state(),
        trainedCodebook == null ? null : trainedCodebook.state());
  }

  @Override
  public void restore(QuantizerState state) {
    if (state.assignmentLogits() == null
        || (trainedCodebook == null) != (state.codebook() == null)) {
      throw new IllegalArgumentException("the carried state is not that of a VQ layer of this "
          + "recipe");
    }
    logits.restore(state.assignmentLogits());
    if (trainedCodebook != null) {
      trainedCodebook.restore(state.codebook());
    }
  }

  @Override
  public void close() {
    for (Tensor t : new Tensor[] {candidateTensor, fixedCodebook, rowScales, useOffsets, uses,
        quantized}) {
      if (t != null) {
        t.close();
      }
    }
    parameters().forEach(Parameter::close);
  }
}
