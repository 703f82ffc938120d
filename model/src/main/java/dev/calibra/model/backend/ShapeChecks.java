package dev.calibra.model.backend;

/** The argument checks every backend makes on its ops' tensors, so that all say the same. */
public final class ShapeChecks {

  private ShapeChecks() {}

  public static void requireSameShape(String op, Tensor a, Tensor b) {
    if (a.rows() != b.rows() || a.cols() != b.cols()) {
      throw new IllegalArgumentException(op + ": shapes differ, " + a.shapeText() + " vs "
          + b.shapeText());
    }
  }

  public static void requireShape(String what, Tensor t, int rows, int cols) {
    if (t.rows() != rows || t.cols() != cols) {
      throw new IllegalArgumentException(what + " is " + t.shapeText() + ", expected " + rows
          + "×" + cols);
    }
  }

  public static void requireRowVector(String what, Tensor t, int cols) {
    requireShape(what, t, 1, cols);
  }

  public static void requireColumn(String what, Tensor t, int rows) {
    requireShape(what, t, rows, 1);
  }

  /**
   * The tensors of a group-scaling op ({@code Backend.scaleGroups} and its gradient): {@code w}
   * and {@code out} of one shape, {@code factors} one per row and group of {@code groupSize}.
   */
  public static void requireGroupScaling(String op, Tensor w, Tensor out, Tensor factors,
      int groupSize) {
    requireSameShape(op, w, out);
    requireShape(op + ": group factors", factors, w.rows(),
        LearnedWeightQuantization.groups(w.cols(), groupSize));
  }

  /** Checks q, k, v against the attention layout: q is tokens × heads·d, k and v tokens × kv·d. */
  public static void requireAttention(AttentionShape shape, Tensor q, Tensor k, Tensor v) {
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
  }
}
