package dev.calibra.partitioning;

/** Model shapes and recipes the tests share. */
final class Shapes {

  static final long GIB = 1L << 30;

  /**
   * 3 blocks, hidden 8, intermediate 12, 2 heads of 4 sharing 1 key/value head: linears (out×in)
   * Q 8×8, K 4×8, V 4×8, O 8×8, GATE 12×8, UP 12×8, DOWN 8×12, so P = 480.
   */
  static final ModelShape TINY = new ModelShape(3, 8, 12, 2, 1, 4, 16, false, false);

  /** Rank 2, 4 bits in groups of 5 (rows of 8 and 12 end with a shorter group), 3 × 5 tokens. */
  static final RecipeShape TINY_RECIPE = RecipeShape.builder().window(2, 1).loraRank(2)
      .scheme(4, 5).samples(3, 5).batchSize(2).epochs(3).build();

  static final ModelShape LLAMA_7B = ModelShape.llama(32, 4096, 11008, 32, 32, 32000);

  static final ModelShape LLAMA_70B = ModelShape.llama(80, 8192, 28672, 64, 8, 32000);

  private Shapes() {}
}
