package dev.calibra.kernels.cuda;

import static jcuda.driver.JCudaDriver.cuEventCreate;
import static jcuda.driver.JCudaDriver.cuEventDestroy;
import static jcuda.driver.JCudaDriver.cuEventElapsedTime;
import static jcuda.driver.JCudaDriver.cuEventRecord;
import static jcuda.driver.JCudaDriver.cuEventSynchronize;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import jcuda.driver.CUevent;
import jcuda.driver.CUevent_flags;
import jcuda.driver.CUstream;

/**
 * GPU time per kernel, from CUDA events recorded around every launch while a backend profiles
 * ({@link CudaBackend#profileKernels}): where a training step's time goes.
 */
final class KernelProfile {

  private record Pending(String kernel, CUevent start, CUevent end) {}

  private final CUstream stream;
  private final List<Pending> pending = new ArrayList<>();
  private final ArrayDeque<CUevent> spare = new ArrayDeque<>();

  KernelProfile(CUstream stream) {
    this.stream = stream;
  }

  CUevent start() {
    CUevent event = take();
    CudaException.check(cuEventRecord(event, stream), "cuEventRecord");
    return event;
  }

  void end(String kernel, CUevent start) {
    CUevent end = take();
    CudaException.check(cuEventRecord(end, stream), "cuEventRecord");
    pending.add(new Pending(kernel, start, end));
  }

  /** Waits for the recorded launches and returns their time per kernel, longest first. */
  List<CudaBackend.KernelTime> collect() {
    Map<String, double[]> totals = new LinkedHashMap<>();
    float[] milliseconds = {0};
    for (Pending p : pending) {
      CudaException.check(cuEventSynchronize(p.end()), "cuEventSynchronize");
      CudaException.check(cuEventElapsedTime(milliseconds, p.start(), p.end()), "cuEventElapsedTime");
      double[] total = totals.computeIfAbsent(p.kernel(), k -> new double[2]);
      total[0]++;
      total[1] += milliseconds[0];
      spare.push(p.start());
      spare.push(p.end());
    }
    pending.clear();
    List<CudaBackend.KernelTime> entries = new ArrayList<>();
    totals.forEach((kernel, t) -> entries.add(new CudaBackend.KernelTime(kernel, (long) t[0], t[1])));
    entries.sort(Comparator.comparingDouble(CudaBackend.KernelTime::milliseconds).reversed());
    return entries;
  }

  /** Waits for what is pending, then frees the events. */
  void close() {
    collect();
    for (CUevent event : spare) {
      CudaException.check(cuEventDestroy(event), "cuEventDestroy");
    }
    spare.clear();
  }

  private CUevent take() {
    CUevent event = spare.poll();
    if (event == null) {
      event = new CUevent();
      CudaException.check(cuEventCreate(event, CUevent_flags.CU_EVENT_DEFAULT), "cuEventCreate");
    }
    return event;
  }
}
