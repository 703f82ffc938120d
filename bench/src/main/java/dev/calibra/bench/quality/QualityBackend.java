package dev.calibra.bench.quality;

import dev.calibra.kernels.Backends;
import dev.calibra.kernels.cuda.CudaOptions;
import dev.calibra.kernels.cuda.MatmulPrecision;
import java.util.List;

/**
 * The backend a quality entry runs on: the CPU, or with a leading {@code --backend cuda} (or
 * {@code auto}) the GPU with fp32 products, so that its perplexities stay the CPU backend's to
 * about 1e-4 while rows take seconds instead of minutes.
 */
final class QualityBackend {

  private QualityBackend() {}

  /** Opens it, taking a leading {@code --backend CHOICE} out of {@code arguments}. */
  static Backends.Selected open(List<String> arguments) {
    Backends.Choice choice = Backends.Choice.CPU;
    if (arguments.size() >= 2 && arguments.get(0).equals("--backend")) {
      choice = Backends.Choice.parse(arguments.get(1));
      arguments.subList(0, 2).clear();
    }
    Backends.Selected selected = Backends.open(choice,
        CudaOptions.defaults().withPrecision(MatmulPrecision.FP32));
    System.err.println("backend: " + selected.description());
    return selected;
  }
}
