package dev.calibra.storage.artifact;

import java.util.Iterator;
import java.util.List;

/** A stream of tensors that fails partway, as a crashing task or a full disk would. */
final class InterruptedWrites {

  private InterruptedWrites() {}

  /** Yields {@code tensors}, then throws instead of ending. */
  static Iterator<ArtifactTensor> failingAfter(List<ArtifactTensor> tensors) {
    Iterator<ArtifactTensor> inner = tensors.iterator();
    return new Iterator<>() {
      @Override
      public boolean hasNext() {
        return true;
      }

      @Override
      public ArtifactTensor next() {
        if (inner.hasNext()) {
          return inner.next();
        }
        throw new IllegalStateException("simulated failure after " + tensors.size() + " tensors");
      }
    };
  }
}
