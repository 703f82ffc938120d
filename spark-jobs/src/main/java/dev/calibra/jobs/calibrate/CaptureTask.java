package dev.calibra.jobs.calibrate;

import dev.calibra.calibration.cbq.ActivationStreams;
import dev.calibra.calibration.cbq.CalibrationListener;
import dev.calibra.calibration.cbq.CbqCalibrator;
import dev.calibra.jobs.workdir.ActivationFile;
import dev.calibra.jobs.workdir.WorkDirectory;
import dev.calibra.kernels.Backends;
import dev.calibra.model.backend.Backend;
import dev.calibra.model.backend.Tensor;
import dev.calibra.model.llama.BlockActivations;
import dev.calibra.model.llama.BlockWeights;
import dev.calibra.model.llama.DecoderBlock;
import dev.calibra.model.llama.LlamaWeightSource;
import dev.calibra.model.llama.RotaryTables;
import dev.calibra.storage.hf.ModelDirectory;
import dev.calibra.storage.tokens.TokenIdFiles;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.SortedSet;
import java.util.TreeSet;

/**
 * The capture stage's task: one float pass of the calibration samples through the model, saving
 * the activations at the input of each block a shard starts from. Blocks whose file exists (from
 * an earlier run of the job) are not written again; when all exist nothing is computed.
 */
public final class CaptureTask {

  private final JobSpec spec;
  private final TaskEnvironment environment;

  public CaptureTask(JobSpec spec, TaskEnvironment environment) {
    this.spec = spec;
    this.environment = environment;
  }

  /** Returns the blocks whose activations it wrote. */
  public List<Integer> run(List<Integer> blocks) throws IOException {
    WorkDirectory work = spec.work();
    SortedSet<Integer> missing = new TreeSet<>();
    for (int block : blocks) {
      if (!work.capture(block).exists()) {
        missing.add(block);
      }
    }
    if (missing.isEmpty()) {
      return List.of();
    }
    try (Backends.Selected opened = TaskBackends.open(spec.backend(), environment.gpu());
        ModelDirectory model = ModelDirectory.open(spec.model())) {
      Backend backend = opened.backend();
      LlamaWeightSource weights = CbqCalibrator.modelToCalibrate(model.weights(), spec.recipe());
      List<int[]> samples = TokenIdFiles.read(work.calibrationSamples().toString(), null);
      ActivationStreams streams = new CbqCalibrator(backend, spec.recipe(),
          CalibrationListener.SILENT).embed(weights, samples);
      int seqLen = streams.seqLen();
      RotaryTables rotary = RotaryTables.of(weights.config(), seqLen, backend);
      DecoderBlock decoder = new DecoderBlock(weights.config(), backend, rotary);
      List<Tensor> stream = streams.floatStream();
      for (int block = 0; block <= missing.last(); block++) {
        if (missing.contains(block)) {
          ActivationFile.write(work.capture(block),
              new ActivationStreams(block, stream, stream, seqLen), backend);
        }
        if (block < missing.last()) {
          BlockWeights blockWeights = weights.block(block, backend);
          List<Tensor> next = forward(decoder, blockWeights, stream, seqLen);
          // GPU memory is not the garbage collector's: give back what the next block no longer needs.
          blockWeights.closeAllBut(null);
          stream.forEach(Tensor::close);
          stream = next;
        }
      }
      stream.forEach(Tensor::close);
      rotary.cos().close();
      rotary.sin().close();
      return List.copyOf(missing);
    }
  }

  private static List<Tensor> forward(DecoderBlock decoder, BlockWeights weights,
      List<Tensor> inputs, int seqLen) {
    List<Tensor> outputs = new ArrayList<>(inputs.size());
    for (Tensor x : inputs) {
      BlockActivations activations = decoder.forward(weights, x,
          decoder.shape(x.rows() / seqLen, seqLen));
      activations.releaseIntermediates();
      outputs.add(activations.output());
    }
    return outputs;
  }
}
