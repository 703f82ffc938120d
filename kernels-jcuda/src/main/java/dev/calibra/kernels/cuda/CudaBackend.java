package dev.calibra.kernels.cuda;

import static dev.calibra.model.backend.ShapeChecks.requireColumn;
import static dev.calibra.model.backend.ShapeChecks.requireGroupScaling;
import static dev.calibra.model.backend.ShapeChecks.requireRowVector;
import static dev.calibra.model.backend.ShapeChecks.requireSameShape;
import static dev.calibra.model.backend.ShapeChecks.requireShape;
import static jcuda.driver.JCudaDriver.cuMemcpyDtoDAsync;
import static jcuda.driver.JCudaDriver.cuMemcpyDtoH;
import static jcuda.driver.JCudaDriver.cuMemcpyHtoD;
import static jcuda.driver.JCudaDriver.cuMemsetD32Async;
import static jcuda.driver.JCudaDriver.cuStreamCreate;
import static jcuda.driver.JCudaDriver.cuStreamDestroy;
import static jcuda.driver.JCudaDriver.cuStreamSynchronize;

import dev.calibra.model.backend.AdamStep;
import dev.calibra.model.backend.AttentionShape;
import dev.calibra.model.backend.Backend;
import dev.calibra.model.backend.LearnedWeightQuantization;
import dev.calibra.model.backend.SoftVqAssignment;
import dev.calibra.model.backend.ShapeChecks;
import dev.calibra.model.backend.Tensor;
import dev.calibra.model.backend.WeightedSubVectors;
import java.util.List;
import jcuda.Pointer;
import jcuda.driver.CUevent;
import jcuda.driver.CUstream;
import jcuda.driver.CUstream_flags;

/**
 * The GPU backend: every op is a kernel of src/main/cuda launched through the JCuda driver API on
 * this backend's own stream, so ops run in order and the host only waits in {@link #download}
 * and {@link #crossEntropy}. Tensors are float32 in GPU memory, from a caching pool.
 *
 * <p>One backend per thread of work (a Spark task, a test): it is not thread-safe, but any
 * thread may use it in turn. Backends on one device share its {@link CudaContext}. Close the
 * backend to give its memory back; its tensors are invalid afterwards.
 *
 * <p>Adding an op: a kernel in a .cu file of src/main/cuda (extern "C"), a method here that
 * checks shapes and launches it with {@link #kernel}, and a parity test against the CPU backend.
 * Pass each tensor as {@code input} (only read), {@code output} (overwritten completely, never
 * read) or {@code arg} (read and written: the safe default), which keeps lazily cleared tensors
 * ({@link #zeros}) and cached bf16 copies ({@link PackCache}) right.
 */
public final class CudaBackend implements Backend, AutoCloseable {

  private final CudaContext context;
  private final CudaOptions options;
  private final CUstream stream;
  private final DevicePool pool;
  private final Matmul matmul;
  private final Attention attention;
  private final WeightFakeQuantization weightQuantization;
  private final VectorQuantization vectorQuantization;
  private final PackCache packs;
  private KernelProfile profile;

  private CudaBackend(CudaContext context, CudaOptions options) {
    this.context = context;
    this.options = options;
    context.makeCurrent();
    stream = new CUstream();
    // A blocking stream: the synchronous copies of upload and download, which run on the legacy
    // default stream, wait for its kernels and are waited for by the next ones.
    CudaException.check(cuStreamCreate(stream, CUstream_flags.CU_STREAM_DEFAULT), "cuStreamCreate");
    pool = new DevicePool(this::synchronize);
    packs = new PackCache(this);
    matmul = new Matmul(this);
    attention = new Attention(this);
    weightQuantization = new WeightFakeQuantization(this);
    vectorQuantization = new VectorQuantization(this);
  }

  /** Opens a backend on the options' device; throws CudaException when it cannot be used. */
  public static CudaBackend open(CudaOptions options) {
    return new CudaBackend(CudaContext.of(options.device()), options);
  }

  @Override
  public String name() {
    return "cuda";
  }

  /** The device and how products are computed, for logs and reports. */
  public String description() {
    return context.device().describe() + ", matmul " + matmul.describe();
  }

  public DeviceFacts device() {
    return context.device();
  }

  public MatmulPrecision precision() {
    return options.precision();
  }

  public PoolStats poolStats() {
    return pool.stats();
  }

  /** A kernel's GPU time since the last call. */
  public record KernelTime(String kernel, long launches, double milliseconds) {}

  /**
   * Starts or stops timing every kernel with CUDA events (a few microseconds per launch, so time
   * whole steps with profiling off). Stopping drops what was not collected.
   */
  public void profileKernels(boolean on) {
    context.makeCurrent();
    if (profile != null) {
      profile.close();
    }
    profile = on ? new KernelProfile(stream) : null;
  }

  /** GPU time per kernel since profiling started or was last collected, longest first. */
  public List<KernelTime> kernelProfile() {
    if (profile == null) {
      return List.of();
    }
    context.makeCurrent();
    return profile.collect();
  }

  /** Waits until every op issued so far has finished (for timing). */
  public void synchronize() {
    context.makeCurrent();
    CudaException.check(cuStreamSynchronize(stream), "cuStreamSynchronize");
  }

  @Override
  public void close() {
    context.makeCurrent();
    if (profile != null) {
      profile.close();
    }
    pool.close();
    CudaException.check(cuStreamDestroy(stream), "cuStreamDestroy");
  }

  // ---- plumbing for the op classes

  KernelLaunch kernel(String name) {
    return new KernelLaunch(name, this);
  }

  /** Called before each launch: the start event when profiling, else null. */
  CUevent beforeLaunch() {
    return profile == null ? null : profile.start();
  }

  void afterLaunch(String name, CUevent start) {
    if (profile != null) {
      profile.end(name, start);
    }
    if (options.checkEveryLaunch()) {
      CudaException.check(cuStreamSynchronize(stream), "kernel " + name);
    }
  }

  CUstream stream() {
    return stream;
  }

  KernelModules kernels() {
    return context.kernels();
  }

  Matmul matmulKernels() {
    return matmul;
  }

  PackCache packs() {
    return packs;
  }

  /** Device scratch memory for one op; release it right after the launches that use it. */
  DeviceBlock scratch(long bytes) {
    return pool.allocate(bytes);
  }

  void release(DeviceBlock block) {
    pool.release(block);
  }

  /** Clears a tensor from {@link #zeros} that is about to be read. */
  void clearIfPending(CudaTensor t) {
    if (t.zeroPending()) {
      t.setZeroPending(false);
      CudaException.check(cuMemsetD32Async(t.pointer(), 0, t.size(), stream), "cuMemsetD32Async");
    }
  }

  CudaTensor tensor(Tensor tensor) {
    if (tensor instanceof CudaTensor cuda && cuda.belongsTo(pool)) {
      return cuda;
    }
    throw new IllegalArgumentException("this CUDA backend was given a tensor it does not own: "
        + tensor);
  }

  /** {@link #tensor}, for the ops' optional tensors. */
  CudaTensor tensorOrNull(Tensor tensor) {
    return tensor == null ? null : tensor(tensor);
  }

  // ---- Backend

  /** A tensor of zeros; the clearing waits until something reads it (most are outputs). */
  @Override
  public Tensor zeros(int rows, int cols) {
    context.makeCurrent();
    CudaTensor t = new CudaTensor(rows, cols, pool);
    t.setZeroPending(t.size() > 0);
    return t;
  }

  @Override
  public Tensor upload(float[] values, int rows, int cols) {
    if ((long) rows * cols != values.length) {
      throw new IllegalArgumentException("expected " + (long) rows * cols + " values for " + rows
          + "×" + cols + ", got " + values.length);
    }
    context.makeCurrent();
    CudaTensor t = new CudaTensor(rows, cols, pool);
    if (values.length > 0) {
      CudaException.check(cuMemcpyHtoD(t.pointer(), Pointer.to(values), t.bytes()), "upload");
    }
    return t;
  }

  @Override
  public float[] download(Tensor tensor) {
    CudaTensor t = tensor(tensor);
    if (t.size() > Integer.MAX_VALUE - 8) {
      throw new IllegalArgumentException("tensor " + t.shapeText() + " is too large for a Java array");
    }
    context.makeCurrent();
    clearIfPending(t);
    float[] values = new float[(int) t.size()];
    if (values.length > 0) {
      CudaException.check(cuMemcpyDtoH(Pointer.to(values), t.pointer(), t.bytes()), "download");
    }
    return values;
  }

  @Override
  public void copy(Tensor source, Tensor destination) {
    requireSameShape("copy", source, destination);
    CudaTensor from = tensor(source);
    CudaTensor to = tensor(destination);
    context.makeCurrent();
    if (from.size() > 0) {
      clearIfPending(from);
      CudaException.check(cuMemcpyDtoDAsync(to.pointer(), from.pointer(), from.bytes(), stream),
          "copy");
      to.setZeroPending(false);
      to.written();
    }
  }

  @Override
  public void matmul(Tensor a, boolean transposeA, Tensor b, boolean transposeB, Tensor c,
      boolean accumulate) {
    int m = transposeA ? a.cols() : a.rows();
    int k = transposeA ? a.rows() : a.cols();
    int kb = transposeB ? b.cols() : b.rows();
    int n = transposeB ? b.rows() : b.cols();
    if (k != kb || c.rows() != m || c.cols() != n) {
      throw new IllegalArgumentException("matmul shapes do not fit: " + a.shapeText()
          + (transposeA ? "ᵀ" : "") + " · " + b.shapeText() + (transposeB ? "ᵀ" : "") + " → "
          + c.shapeText());
    }
    context.makeCurrent();
    matmul.multiply(matmul.choose(m, n), tensor(a), transposeA, tensor(b), transposeB, tensor(c),
        accumulate);
  }

  @Override
  public void add(Tensor a, Tensor b, Tensor out) {
    requireSameShape("add", a, b);
    requireSameShape("add", a, out);
    long n = a.size();
    if (n == 0) {
      return;
    }
    context.makeCurrent();
    kernel("add_f32").gridFor(n / 4 + 1).input(tensor(a)).input(tensor(b)).output(tensor(out)).arg(n)
        .run();
  }

  @Override
  public void addRowVector(Tensor x, Tensor bias) {
    requireRowVector("bias", bias, x.cols());
    if (x.size() == 0) {
      return;
    }
    context.makeCurrent();
    kernel("add_row_vector").gridFor(x.size()).arg(tensor(x)).input(tensor(bias))
        .arg((long) x.rows()).arg(x.cols()).run();
  }

  @Override
  public void accumulateColumnSums(Tensor x, Tensor sum) {
    requireRowVector("column sum", sum, x.cols());
    context.makeCurrent();
    ColumnSums.accumulate(this, tensor(x), null, null, tensor(sum));
  }

  @Override
  public void rmsNorm(Tensor x, Tensor weight, float eps, Tensor out, Tensor invRms) {
    requireRowVector("norm weight", weight, x.cols());
    requireSameShape("rmsNorm", x, out);
    requireColumn("invRms", invRms, x.rows());
    if (x.size() == 0) {
      return;
    }
    context.makeCurrent();
    // The normalised rows feed products: written in bf16 too, they need no packing pass.
    CudaTensor normed = tensor(out);
    DeviceBlock copy = matmul.rowsCopyTarget(normed);
    kernel("rms_norm_forward").grid(x.rows(), 1, 1).block(KernelLaunch.THREADS, 1, 1)
        .input(tensor(x)).input(tensor(weight)).output(normed).output(tensor(invRms))
        .arg(x.cols()).arg(eps).argOrNull(copy).run();
    matmul.adoptRowsCopy(normed, copy);
  }

  @Override
  public void rmsNormBackward(Tensor dOut, Tensor x, Tensor weight, Tensor invRms, Tensor dX,
      Tensor dWeight) {
    requireSameShape("rmsNormBackward", dOut, x);
    requireSameShape("rmsNormBackward", x, dX);
    requireRowVector("norm weight", weight, x.cols());
    requireColumn("invRms", invRms, x.rows());
    if (dWeight != null) {
      requireRowVector("norm weight gradient", dWeight, x.cols());
    }
    if (x.size() == 0) {
      return;
    }
    context.makeCurrent();
    kernel("rms_norm_backward_input").grid(x.rows(), 1, 1).block(KernelLaunch.THREADS, 1, 1)
        .input(tensor(dOut)).input(tensor(x)).input(tensor(weight)).input(tensor(invRms))
        .output(tensor(dX)).arg(x.cols()).run();
    if (dWeight != null) {
      ColumnSums.accumulate(this, tensor(dOut), tensor(x), tensor(invRms), tensor(dWeight));
    }
  }

  @Override
  public void rotary(Tensor x, int headDim, int seqLen, Tensor cos, Tensor sin, boolean inverse) {
    int half = headDim / 2;
    if (headDim <= 0 || x.cols() % headDim != 0 || headDim % 2 != 0) {
      throw new IllegalArgumentException("rotary: width " + x.cols()
          + " is not a whole number of heads of even width " + headDim);
    }
    if (cos.cols() != half || sin.cols() != half || cos.rows() < seqLen || sin.rows() < seqLen) {
      throw new IllegalArgumentException("rotary tables " + cos.shapeText() + " do not cover "
          + seqLen + " positions of head width " + headDim);
    }
    if (x.size() == 0) {
      return;
    }
    context.makeCurrent();
    // Rotated queries and keys go to attention, their gradients to products: in bf16 too, neither
    // needs a packing pass (attention reads this copy when its heads need no padding).
    CudaTensor rotated = tensor(x);
    DeviceBlock copy = matmul.rowsCopyTarget(rotated);
    int pairsPerThread = half % 4 == 0 ? 4 : 1;
    kernel("rotary").gridFor(x.size() / 2 / pairsPerThread).arg(rotated).arg((long) x.rows())
        .arg(x.cols()).arg(headDim).arg(seqLen).input(tensor(cos)).input(tensor(sin))
        .arg(inverse ? -1f : 1f).argOrNull(copy).run();
    matmul.adoptRowsCopy(rotated, copy);
  }

  @Override
  public void causalAttention(Tensor q, Tensor k, Tensor v, AttentionShape shape, Tensor out,
      Tensor logSumExp) {
    ShapeChecks.requireAttention(shape, q, k, v);
    requireSameShape("attention output", q, out);
    requireShape("logSumExp", logSumExp, shape.tokens(), shape.numHeads());
    context.makeCurrent();
    attention.forward(tensor(q), tensor(k), tensor(v), shape, tensor(out), tensor(logSumExp));
  }

  @Override
  public void causalAttentionBackward(Tensor dOut, Tensor q, Tensor k, Tensor v, Tensor out,
      Tensor logSumExp, AttentionShape shape, Tensor dQ, Tensor dK, Tensor dV) {
    ShapeChecks.requireAttention(shape, q, k, v);
    requireSameShape("attention gradient", q, dOut);
    requireSameShape("attention gradient", q, out);
    requireSameShape("attention gradient", q, dQ);
    requireSameShape("attention gradient", k, dK);
    requireSameShape("attention gradient", v, dV);
    requireShape("logSumExp", logSumExp, shape.tokens(), shape.numHeads());
    context.makeCurrent();
    attention.backward(tensor(dOut), tensor(q), tensor(k), tensor(v), tensor(out),
        tensor(logSumExp), shape, tensor(dQ), tensor(dK), tensor(dV));
  }

  @Override
  public void swiglu(Tensor gate, Tensor up, Tensor out) {
    requireSameShape("swiglu", gate, up);
    requireSameShape("swiglu", gate, out);
    if (gate.size() == 0) {
      return;
    }
    context.makeCurrent();
    // The down projection's input, and its gradients below the gate and up projections' inputs:
    // written in bf16 too, they need no packing pass.
    CudaTensor hidden = tensor(out);
    DeviceBlock copy = matmul.rowsCopyTarget(hidden);
    kernel("swiglu_forward").gridFor(gate.size() / 4).input(tensor(gate)).input(tensor(up))
        .output(hidden).arg(gate.size()).argOrNull(copy).run();
    matmul.adoptRowsCopy(hidden, copy);
  }

  @Override
  public void swigluBackward(Tensor dOut, Tensor gate, Tensor up, Tensor dGate, Tensor dUp) {
    requireSameShape("swigluBackward", gate, up);
    requireSameShape("swigluBackward", gate, dOut);
    requireSameShape("swigluBackward", gate, dGate);
    requireSameShape("swigluBackward", gate, dUp);
    if (gate.size() == 0) {
      return;
    }
    context.makeCurrent();
    CudaTensor gateGradient = tensor(dGate);
    CudaTensor upGradient = tensor(dUp);
    DeviceBlock gateCopy = matmul.rowsCopyTarget(gateGradient);
    DeviceBlock upCopy = matmul.rowsCopyTarget(upGradient);
    kernel("swiglu_backward").gridFor(gate.size() / 4).input(tensor(dOut)).input(tensor(gate))
        .input(tensor(up)).output(gateGradient).output(upGradient).arg(gate.size())
        .argOrNull(gateCopy).argOrNull(upCopy).run();
    matmul.adoptRowsCopy(gateGradient, gateCopy);
    matmul.adoptRowsCopy(upGradient, upCopy);
  }

  @Override
  public void embed(Tensor table, int[] ids, Tensor out) {
    requireShape("embedding output", out, ids.length, table.cols());
    for (int r = 0; r < ids.length; r++) {
      if (ids[r] < 0 || ids[r] >= table.rows()) {
        throw new IllegalArgumentException("token id " + ids[r] + " at position " + r
            + " is outside the vocabulary of " + table.rows());
      }
    }
    if (out.size() == 0) {
      return;
    }
    context.makeCurrent();
    DeviceBlock deviceIds = uploadInts(ids);
    kernel("embed_rows").gridFor(out.size()).input(tensor(table)).arg(deviceIds).output(tensor(out))
        .arg((long) ids.length).arg(table.cols()).run();
    release(deviceIds);
  }

  @Override
  public double[] crossEntropy(Tensor logits, int[] targets) {
    if (targets.length != logits.rows()) {
      throw new IllegalArgumentException(targets.length + " targets for " + logits.rows()
          + " rows of logits");
    }
    for (int r = 0; r < targets.length; r++) {
      if (targets[r] < 0 || targets[r] >= logits.cols()) {
        throw new IllegalArgumentException("target " + targets[r] + " at row " + r
            + " is outside the vocabulary of " + logits.cols());
      }
    }
    double[] nll = new double[targets.length];
    if (targets.length == 0) {
      return nll;
    }
    context.makeCurrent();
    DeviceBlock deviceTargets = uploadInts(targets);
    DeviceBlock deviceNll = scratch((long) nll.length * Double.BYTES);
    kernel("cross_entropy_rows").grid(targets.length, 1, 1).block(KernelLaunch.THREADS, 1, 1)
        .input(tensor(logits)).arg(deviceTargets).arg(logits.cols()).arg(deviceNll).run();
    CudaException.check(cuMemcpyDtoH(Pointer.to(nll), deviceNll.pointer,
        (long) nll.length * Double.BYTES), "crossEntropy download");
    release(deviceTargets);
    release(deviceNll);
    return nll;
  }

  // ---- Calibration ops: float arithmetic per element as CpuQuantizationOps orders it, returned
  // sums reduced in a fixed order (see calibration.cu and weight_quantization.cu).

  /** Filling with 0 only marks the tensor as cleared, as {@link #zeros} does. */
  @Override
  public void fill(Tensor x, float value) {
    CudaTensor t = tensor(x);
    if (t.size() == 0) {
      return;
    }
    context.makeCurrent();
    if (Float.floatToRawIntBits(value) == 0) {
      t.setZeroPending(true);
      t.written();
      return;
    }
    kernel("fill_f32").gridFor(t.size()).output(t).arg(t.size()).arg(value).run();
  }

  @Override
  public void scale(Tensor x, float alpha) {
    CudaTensor t = tensor(x);
    if (t.size() == 0) {
      return;
    }
    context.makeCurrent();
    kernel("scale_f32").gridFor(t.size()).arg(t).arg(t.size()).arg(alpha).run();
  }

  @Override
  public void fakeQuantizeWeights(LearnedWeightQuantization q, boolean hardRounding, Tensor out,
      Tensor scales, Tensor zeros) {
    q.requireOutputs(out, scales, zeros);
    context.makeCurrent();
    weightQuantization.forward(q, hardRounding, tensor(out), tensorOrNull(scales),
        tensorOrNull(zeros));
  }

  @Override
  public void fakeQuantizeWeightsBackward(LearnedWeightQuantization q, Tensor dOut,
      Tensor dRounding, Tensor dClipLower, Tensor dClipUpper) {
    q.requireGradients(dOut, dRounding, dClipLower, dClipUpper);
    context.makeCurrent();
    weightQuantization.backward(q, tensor(dOut), tensorOrNull(dRounding),
        tensorOrNull(dClipLower), tensorOrNull(dClipUpper));
  }

  @Override
  public double roundingRegularizer(LearnedWeightQuantization q, float beta, float weight,
      Tensor dRounding) {
    if (q.rounding() == null) {
      throw new IllegalArgumentException("the rounding regulariser needs a rounding tensor");
    }
    requireSameShape("rounding regulariser", q.rounding(), dRounding);
    context.makeCurrent();
    return weightQuantization.roundingRegularizer(q, beta, weight, tensor(dRounding));
  }

  @Override
  public double squaredError(Tensor pred, Tensor target, float gradScale, Tensor dPred) {
    requireSameShape("squared error", pred, target);
    requireSameShape("squared error", pred, dPred);
    long n = pred.size();
    if (n == 0) {
      return 0;
    }
    context.makeCurrent();
    KernelLaunch launch = kernel("squared_error").gridFor(n);
    DeviceBlock partial = scratch((long) launch.blocks() * Double.BYTES);
    launch.input(tensor(pred)).input(tensor(target)).arg(n).arg(gradScale).output(tensor(dPred))
        .arg(partial).run();
    return OrderedSum.ofAndRelease(this, partial, launch.blocks());
  }

  @Override
  public double softmaxKlDivergence(Tensor target, Tensor pred, float temperature,
      float gradScale, Tensor dPred) {
    requireSameShape("KL divergence", pred, target);
    requireSameShape("KL divergence", pred, dPred);
    if (!(temperature > 0)) {
      throw new IllegalArgumentException("KL temperature must be positive, got " + temperature);
    }
    if (pred.size() == 0) {
      return 0;
    }
    context.makeCurrent();
    DeviceBlock rowKl = scratch((long) pred.rows() * Double.BYTES);
    kernel("softmax_kl_rows").grid(pred.rows(), 1, 1).block(KernelLaunch.THREADS, 1, 1)
        .input(tensor(target)).input(tensor(pred)).arg(pred.cols()).arg(temperature)
        .arg(gradScale).arg(tensor(dPred)).arg(rowKl).run();
    return OrderedSum.ofAndRelease(this, rowKl, pred.rows());
  }

  @Override
  public void adamUpdate(Tensor param, Tensor grad, Tensor m, Tensor v, AdamStep step) {
    requireSameShape("Adam", param, grad);
    requireSameShape("Adam", param, m);
    requireSameShape("Adam", param, v);
    long n = param.size();
    if (n == 0) {
      return;
    }
    context.makeCurrent();
    kernel("adam_update").gridFor(n).arg(tensor(param)).input(tensor(grad)).arg(tensor(m))
        .arg(tensor(v)).arg(n).arg(step.learningRate()).arg(step.beta1()).arg(step.beta2())
        .arg(step.epsilon()).arg(step.firstMomentCorrection()).arg(step.secondMomentCorrection())
        .run();
  }

  @Override
  public void fakeQuantizeActivations(Tensor x, int bits, float dropProbability, long seed,
      Tensor out) {
    requireSameShape("activation quantization", x, out);
    if (bits < 2 || bits > 16) {
      throw new IllegalArgumentException("activation bits must be in 2..16, got " + bits);
    }
    if (x.size() == 0) {
      return;
    }
    context.makeCurrent();
    // x before out: when they are one tensor, a pending clear happens before it counts as written.
    kernel("fake_quantize_activations").grid(x.rows(), 1, 1).block(KernelLaunch.THREADS, 1, 1)
        .input(tensor(x)).output(tensor(out)).arg(x.cols()).arg((float) ((1 << bits) - 1))
        .arg(dropProbability).arg(seed).run();
  }

  @Override
  public void columnAbsMax(Tensor x, Tensor runningMax) {
    requireRowVector("column maximum", runningMax, x.cols());
    context.makeCurrent();
    ColumnAbsMax.accumulate(this, tensor(x), tensor(runningMax));
  }

  @Override
  public void scaleGroups(Tensor w, Tensor logScale, int groupSize, Tensor out) {
    requireGroupScaling("group scaling", w, out, logScale, groupSize);
    context.makeCurrent();
    GroupScaling.forward(this, tensor(w), tensor(logScale), groupSize, tensor(out));
  }

  @Override
  public void scaleGroupsBackward(Tensor dOut, Tensor out, int groupSize, Tensor dLogScale) {
    requireGroupScaling("group scaling gradient", dOut, out, dLogScale, groupSize);
    context.makeCurrent();
    GroupScaling.backward(this, tensor(dOut), tensor(out), groupSize, tensor(dLogScale));
  }

  // ---- Vector quantization (vector_quantization.cu): the CPU's float operations, sums across
  // sub-vectors in fixed point.

  @Override
  public void accumulateColumnSquares(Tensor x, Tensor sum) {
    requireRowVector("column squares", sum, x.cols());
    context.makeCurrent();
    vectorQuantization.columnSquares(tensor(x), tensor(sum));
  }

  @Override
  public double nearestCodewords(WeightedSubVectors v, Tensor codebook, Tensor indices,
      int fixedPointExponent) {
    requireCodebook(codebook, v.dim());
    requireShape("nearest codeword indices", indices, v.count(), indices.cols());
    context.makeCurrent();
    return vectorQuantization.nearest(v, tensor(codebook), tensor(indices), fixedPointExponent);
  }

  @Override
  public void updateCentroids(WeightedSubVectors v, Tensor assignment, Tensor codebook,
      int fixedPointExponent) {
    requireCodebook(codebook, v.dim());
    requireColumn("assignment", assignment, v.count());
    context.makeCurrent();
    vectorQuantization.updateCentroids(v, tensor(assignment), tensor(codebook),
        fixedPointExponent);
  }

  @Override
  public int kMeansPlusPlusStep(WeightedSubVectors v, int chosen, Tensor minDistance,
      int fixedPointExponent, double uniform) {
    requireColumn("k-means++ distances", minDistance, v.count());
    context.makeCurrent();
    return vectorQuantization.kMeansPlusPlusStep(v, chosen, tensor(minDistance),
        fixedPointExponent, uniform);
  }

  @Override
  public void softVqWeights(SoftVqAssignment a, Tensor out) {
    a.requireOutput(out);
    context.makeCurrent();
    vectorQuantization.softWeights(a, tensor(out));
  }

  @Override
  public void softVqWeightsBackward(SoftVqAssignment a, Tensor dOut, Tensor dLogits,
      Tensor dCodebook) {
    a.requireGradients(dOut, dLogits, dCodebook);
    context.makeCurrent();
    vectorQuantization.softWeightsBackward(a, tensor(dOut), tensor(dLogits),
        tensorOrNull(dCodebook));
  }

  private static void requireCodebook(Tensor codebook, int dim) {
    if (codebook.cols() != dim || codebook.rows() < 1) {
      throw new IllegalArgumentException("codebook is " + codebook.shapeText() + ", expected "
          + "entries × " + dim);
    }
  }


  private DeviceBlock uploadInts(int[] values) {
    DeviceBlock block = scratch((long) values.length * Integer.BYTES);
    CudaException.check(cuMemcpyHtoD(block.pointer, Pointer.to(values),
        (long) values.length * Integer.BYTES), "upload of ids");
    return block;
  }
}
