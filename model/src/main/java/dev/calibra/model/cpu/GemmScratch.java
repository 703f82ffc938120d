package dev.calibra.model.cpu;

/**
 * Per-thread packing buffers of the blocked {@link Gemm}, grown on demand and kept, so that large
 * products allocate nothing once a thread has run one. They are bounded by the block sizes of
 * {@link BlockedGemm} (a few MiB), not by the problem size.
 */
final class GemmScratch {

  private static final ThreadLocal<GemmScratch> PER_THREAD =
      ThreadLocal.withInitial(GemmScratch::new);

  private float[] packedA = new float[0];
  private float[] packedB = new float[0];
  private float[] edgeTile = new float[0];

  private GemmScratch() {}

  static GemmScratch ofCurrentThread() {
    return PER_THREAD.get();
  }

  /** The block of A this thread packs for itself. */
  float[] packedA(int size) {
    if (packedA.length < size) {
      packedA = new float[size];
    }
    return packedA;
  }

  /** The panel of B a call packs once and all its worker threads then read. */
  float[] packedB(int size) {
    if (packedB.length < size) {
      packedB = new float[size];
    }
    return packedB;
  }

  /** A full kernel tile for the edges of C, where the kernel may not write in place. */
  float[] edgeTile(int size) {
    if (edgeTile.length < size) {
      edgeTile = new float[size];
    }
    return edgeTile;
  }
}
