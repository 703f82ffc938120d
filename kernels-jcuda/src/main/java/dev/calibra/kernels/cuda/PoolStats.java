package dev.calibra.kernels.cuda;

/**
 * Counters of a {@link DevicePool}.
 *
 * @param driverAllocations cuMemAlloc calls so far; constant across steady-state training steps
 * @param reuses requests served from the pool's free lists
 * @param bytesInUse bytes handed out and not yet released
 * @param peakBytesInUse the most bytes handed out at once
 * @param bytesCached bytes released to the pool and kept for reuse
 */
public record PoolStats(long driverAllocations, long reuses, long bytesInUse, long peakBytesInUse,
    long bytesCached) {}
