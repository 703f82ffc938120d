package dev.calibra.jobs.spark;

import java.util.Map;
import java.util.OptionalInt;
import org.apache.spark.resource.ResourceInformation;

/**
 * The GPU Spark assigned to a task, as a CUDA device ordinal. With
 * {@code spark.task.resource.gpu.amount} set, Spark gives each task addresses from those the
 * executor's discovery script reported (bin/find-gpus prints nvidia-smi's indices), and the task
 * reads them from its TaskContext.
 */
final class GpuAddress {

  static final String RESOURCE = "gpu";

  private GpuAddress() {}

  /** The task's first GPU, or empty when it has none (a CPU-only cluster). */
  static OptionalInt of(Map<String, ResourceInformation> taskResources) {
    ResourceInformation gpu = taskResources == null ? null : taskResources.get(RESOURCE);
    return gpu == null ? OptionalInt.empty() : parse(gpu.addresses());
  }

  /** The first of a task's GPU addresses as a device ordinal; each must be a non-negative integer. */
  static OptionalInt parse(String[] addresses) {
    if (addresses == null || addresses.length == 0) {
      return OptionalInt.empty();
    }
    try {
      int ordinal = Integer.parseInt(addresses[0].trim());
      if (ordinal >= 0) {
        return OptionalInt.of(ordinal);
      }
    } catch (NumberFormatException e) {
      // reported below
    }
    throw new IllegalArgumentException("GPU address '" + addresses[0] + "' is not a device ordinal "
        + "(0, 1, …); the GPU discovery script must report nvidia-smi's indices, as bin/find-gpus does");
  }
}
