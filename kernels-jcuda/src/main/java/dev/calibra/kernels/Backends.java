package dev.calibra.kernels;

import dev.calibra.kernels.cuda.CudaBackend;
import dev.calibra.kernels.cuda.CudaDevices;
import dev.calibra.kernels.cuda.CudaException;
import dev.calibra.kernels.cuda.CudaOptions;
import dev.calibra.model.backend.Backend;
import dev.calibra.model.cpu.CpuBackend;
import java.util.Locale;

/**
 * Opens the compute backend a user asked for: {@code cpu}, {@code cuda}, or {@code auto} (the
 * GPU when one is usable, the CPU otherwise), with one line saying what was chosen and why. The
 * command line and the Spark jobs both start here; a Spark task passes the GPU it was assigned:
 *
 * <pre>{@code
 * int gpu = Integer.parseInt(TaskContext.get().resources().get("gpu").addresses()[0]);
 * try (Backends.Selected selected = Backends.open(Choice.AUTO, CudaOptions.defaults().withDevice(gpu))) {
 *   ... selected.backend() ...
 * }
 * }</pre>
 */
public final class Backends {

  /** What the user asked for. */
  public enum Choice {
    AUTO, CPU, CUDA;

    public static Choice parse(String text) {
      return switch (text.toLowerCase(Locale.ROOT)) {
        case "auto" -> AUTO;
        case "cpu" -> CPU;
        case "cuda" -> CUDA;
        default -> throw new IllegalArgumentException("backend must be auto, cpu or cuda, got '"
            + text + "'");
      };
    }
  }

  /** An open backend and the line that describes it; closing it frees a GPU backend's memory. */
  public record Selected(Backend backend, String description) implements AutoCloseable {
    @Override
    public void close() {
      if (backend instanceof CudaBackend cuda) {
        cuda.close();
      }
    }
  }

  private Backends() {}

  /**
   * @param cuda device and precision for a GPU backend (ignored for the CPU)
   * @throws CudaException when {@code cuda} was asked for and no GPU can be used
   */
  public static Selected open(Choice choice, CudaOptions cuda) {
    return switch (choice) {
      case CPU -> cpu("cpu");
      case CUDA -> gpu("cuda", cuda);
      case AUTO -> {
        CudaDevices.Probe probe = CudaDevices.probe();
        if (!probe.usable()) {
          yield cpu("auto: no usable GPU (" + probe.reason() + "), so cpu");
        }
        try {
          yield gpu("auto: a GPU is usable, so cuda", cuda);
        } catch (CudaException e) {
          yield cpu("auto: the GPU could not be opened (" + e.getMessage() + "), so cpu");
        }
      }
    };
  }

  private static Selected cpu(String why) {
    return new Selected(new CpuBackend(), why);
  }

  private static Selected gpu(String why, CudaOptions options) {
    CudaBackend backend = CudaBackend.open(options);
    return new Selected(backend, why + " on " + backend.description());
  }
}
