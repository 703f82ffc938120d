package dev.calibra.jobs.calibrate;

import dev.calibra.model.backend.Backend;
import dev.calibra.model.cpu.CpuBackend;
import java.util.Locale;
import java.util.OptionalInt;

/**
 * Opens the compute backend of one task: the one place where the job turns the user's choice
 * ({@code auto}, {@code cpu}, {@code cuda}) and the GPU Spark assigned to the task into a
 * {@link Backend}. The GPU backend is not in this build yet: {@code auto} then runs on the CPU
 * and {@code cuda} is refused. When it is, this becomes a call to its backend selector with the
 * device ordinal.
 */
public final class TaskBackends {

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

    public String label() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  /** An open backend, the line that says which and why, and a close that frees it. */
  public record Opened(Backend backend, String description) implements AutoCloseable {
    @Override
    public void close() {}
  }

  private TaskBackends() {}

  /** @param gpu the device ordinal Spark assigned to the task, if any */
  public static Opened open(Choice choice, OptionalInt gpu) {
    String assigned = gpu.isPresent() ? "GPU " + gpu.getAsInt() + " assigned" : "no GPU assigned";
    return switch (choice) {
      case CPU -> new Opened(new CpuBackend(), "cpu (" + assigned + ")");
      case AUTO -> new Opened(new CpuBackend(), "auto: cpu, the GPU backend is not in this build ("
          + assigned + ")");
      case CUDA -> throw new IllegalStateException("--backend cuda: the GPU backend is not in this "
          + "build yet; use --backend cpu or auto (" + assigned + ")");
    };
  }
}
