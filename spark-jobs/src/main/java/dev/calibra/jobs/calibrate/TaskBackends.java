package dev.calibra.jobs.calibrate;

import dev.calibra.kernels.Backends;
import dev.calibra.kernels.cuda.CudaOptions;
import java.util.OptionalInt;

/**
 * Opens the compute backend of one task: the one place where the job turns the user's choice
 * ({@code auto}, {@code cpu}, {@code cuda}) and the GPU Spark assigned to the task into a
 * backend, through {@link Backends}. A task Spark gave a GPU runs on that device (unless the
 * choice is cpu); a task without one runs on the CPU under {@code cpu}, and on the machine's
 * first usable GPU, if any, under {@code auto} and {@code cuda}, as a single-process run would.
 */
public final class TaskBackends {

  private TaskBackends() {}

  /** @param gpu the device ordinal Spark assigned to the task, if any */
  public static Backends.Selected open(Backends.Choice choice, OptionalInt gpu) {
    CudaOptions device = CudaOptions.defaults().withDevice(gpu.orElse(0));
    Backends.Choice effective = choice == Backends.Choice.AUTO && gpu.isPresent()
        ? Backends.Choice.CUDA : choice;
    return Backends.open(effective, device);
  }
}
