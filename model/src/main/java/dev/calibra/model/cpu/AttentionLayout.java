package dev.calibra.model.cpu;

import dev.calibra.model.backend.AttentionShape;
import dev.calibra.model.backend.ShapeChecks;
import dev.calibra.model.backend.Tensor;

/** Where a head's columns of a sequence start inside the stacked q and k/v matrices. */
record AttentionLayout(AttentionShape shape, int qStride, int kvStride) {

  static AttentionLayout of(AttentionShape shape, Tensor q, Tensor k, Tensor v) {
    ShapeChecks.requireAttention(shape, q, k, v);
    return new AttentionLayout(shape, shape.numHeads() * shape.headDim(),
        shape.numKeyValueHeads() * shape.headDim());
  }

  int queryOffset(int sequence, int head) {
    return sequence * shape.seqLen() * qStride + head * shape.headDim();
  }

  int keyValueOffset(int sequence, int kvHead) {
    return sequence * shape.seqLen() * kvStride + kvHead * shape.headDim();
  }
}
