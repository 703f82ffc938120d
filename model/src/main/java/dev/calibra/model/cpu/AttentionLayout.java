package dev.calibra.model.cpu;

import dev.calibra.model.backend.AttentionShape;
import dev.calibra.model.backend.Tensor;

/** Where a head's columns of a sequence start inside the stacked q and k/v matrices. */
record AttentionLayout(AttentionShape shape, int qStride, int kvStride) {

  static AttentionLayout of(AttentionShape shape, Tensor q, Tensor k, Tensor v) {
    int qWidth = shape.numHeads() * shape.headDim();
    int kvWidth = shape.numKeyValueHeads() * shape.headDim();
    if (q.rows() != shape.tokens() || q.cols() != qWidth) {
      throw new IllegalArgumentException("queries are " + q.shapeText() + ", expected "
          + shape.tokens() + "×" + qWidth + " for " + shape);
    }
    for (Tensor t : new Tensor[] {k, v}) {
      if (t.rows() != shape.tokens() || t.cols() != kvWidth) {
        throw new IllegalArgumentException("keys/values are " + t.shapeText() + ", expected "
            + shape.tokens() + "×" + kvWidth + " for " + shape);
      }
    }
    return new AttentionLayout(shape, qWidth, kvWidth);
  }

  int queryOffset(int sequence, int head) {
    return sequence * shape.seqLen() * qStride + head * shape.headDim();
  }

  int keyValueOffset(int sequence, int kvHead) {
    return sequence * shape.seqLen() * kvStride + kvHead * shape.headDim();
  }
}
