package dev.calibra.model.cpu;

/**
 * The packed, cache-blocked, multi-threaded product (the Goto / BLIS loop nest).
 *
 * <p>For each panel of {@code nc} columns and {@code kc} k steps, op(B) is packed once into a
 * panel shared by all threads (it stays in L3); then each task packs a block of at most about
 * {@code MAX_MC × kc} of op(A) into its own buffer (it stays in L2) and sweeps it against the B
 * panel one {@code kc × nr} sliver at a time (that sliver stays in L1), one micro-kernel tile per
 * step.
 *
 * <p>Tasks are (row block, column range) pairs, so the work splits over M when there are many
 * row blocks and over N as well when M alone cannot keep every thread busy (few output rows, as
 * in dW = dYᵀ·X with few output features).
 *
 * <p>One instance serves one call; the panel fields change only between parallel phases.
 */
final class BlockedGemm {

  // Block sizes for Zen 1 (32 KiB L1d and 512 KiB L2 per core, 8 MiB shared L3) with the 6 × 16
  // vector kernel: a kc × 16 B sliver is at most 20 KiB, so it stays in L1 next to the A and C
  // lines streaming past; an A block of MAX_MC × kc is 180 KiB of L2; a kc × nc B panel is at
  // most 2.5 MiB of L3. kc may reach 320 so that k = 288 (a common model width) is one panel.
  // Blocks are then shrunk to equal sizes so that no thin remainder block is left over.
  private static final int MAX_KC = 320;
  private static final int MAX_MC = 144;
  private static final int MAX_NC = 2048;

  /**
   * Smallest row block when rows are split further to feed every thread: it still reuses each B
   * sliver over a few kernel tiles.
   */
  private static final int MIN_MC = 24;

  /**
   * Tasks per thread when splitting a panel: the slack lets a thread that other work slows down
   * take fewer of them.
   */
  private static final int TASKS_PER_THREAD = 4;

  /**
   * Fewest C columns per task when row blocks are split by column: each such task packs its A
   * block again, which only pays off against enough columns to multiply it with.
   */
  private static final int MIN_TASK_COLUMNS = 256;

  /** B-panel slivers per packing chunk: packing is cheap, so only split it coarsely. */
  private static final int PACK_GRAIN = 8;

  private final MicroKernel kernel;
  private final int m;
  private final int n;
  private final int k;
  private final StridedMatrix a;
  private final StridedMatrix b;
  private final float beta;
  private final float[] c;
  private final int cOffset;
  private final int ldc;
  private final int mr;
  private final int nr;
  private final int rowSlivers;
  private final int rowBlocks;
  private final int nc;
  private final int kc;
  private final boolean parallel;
  private final int targetTasks;
  private final float[] panel;

  // The panel being worked on: columns [panelCol, panelCol + panelCols), k steps
  // [panelStep, panelStep + panelDepth), and the beta its tiles apply to C.
  private int panelCol;
  private int panelCols;
  private int panelStep;
  private int panelDepth;
  private float panelBeta;
  private int columnParts;

  private BlockedGemm(MicroKernel kernel, int m, int n, int k, StridedMatrix a, StridedMatrix b,
      float beta, float[] c, int cOffset, int ldc, boolean parallel) {
    this.kernel = kernel;
    this.m = m;
    this.n = n;
    this.k = k;
    this.a = a;
    this.b = b;
    this.beta = beta;
    this.c = c;
    this.cOffset = cOffset;
    this.ldc = ldc;
    this.mr = kernel.rows();
    this.nr = kernel.cols();
    this.targetTasks = parallel ? TASKS_PER_THREAD * Parallel.threads() : 1;
    this.rowSlivers = ceilDiv(m, mr);
    this.rowBlocks = rowBlockCount(m, rowSlivers, targetTasks);
    this.nc = evenBlock(n, MAX_NC, nr);
    this.kc = evenBlock(k, MAX_KC, 1);
    this.parallel = parallel;
    this.panel = GemmScratch.ofCurrentThread().packedB(kc * nc);
  }

  /** C = beta·C + op(A)·op(B) with m, n, k ≥ 1, over the pool when {@code parallel}. */
  static void multiply(MicroKernel kernel, int m, int n, int k, StridedMatrix a, StridedMatrix b,
      float beta, float[] c, int cOffset, int ldc, boolean parallel) {
    new BlockedGemm(kernel, m, n, k, a, b, beta, c, cOffset, ldc, parallel).run();
  }

  /**
   * Row blocks are the cheap way to share out work (every task reads the one shared B panel), so
   * a parallel product gets up to TASKS_PER_THREAD blocks per thread, as long as they keep
   * MIN_MC rows, and a multiple of the thread count, so that equal blocks end together.
   */
  private static int rowBlockCount(int rows, int slivers, int targetTasks) {
    int blocks = Math.max(ceilDiv(rows, MAX_MC), Math.min(targetTasks, rows / MIN_MC));
    if (targetTasks > 1) {
      blocks = ceilDiv(blocks, Parallel.threads()) * Parallel.threads();
    }
    return Math.max(1, Math.min(blocks, slivers));
  }

  /** First row of row block {@code block}; blocks differ by at most one kernel tile of rows. */
  private int blockStart(int block) {
    return Math.min(m, (int) ((long) rowSlivers * block / rowBlocks) * mr);
  }

  private void run() {
    for (panelCol = 0; panelCol < n; panelCol += nc) {
      panelCols = Math.min(nc, n - panelCol);
      int slivers = ceilDiv(panelCols, nr);
      columnParts = Math.max(1, Math.min(ceilDiv(targetTasks, rowBlocks),
          panelCols / MIN_TASK_COLUMNS));
      for (panelStep = 0; panelStep < k; panelStep += kc) {
        panelDepth = Math.min(kc, k - panelStep);
        // Later k panels add onto what the first one wrote.
        panelBeta = panelStep == 0 ? beta : 1f;
        forRange(slivers, PACK_GRAIN, this::packPanel);
        forRange(rowBlocks * columnParts, 1, this::runTasks);
      }
    }
  }

  private void forRange(int count, int grain, Parallel.RangeBody body) {
    if (parallel) {
      Parallel.forRange(count, grain, body);
    } else {
      body.run(0, count);
    }
  }

  private void packPanel(int firstSliver, int endSliver) {
    GemmPacking.packColumns(b, panelStep, panelDepth, panelCol, panelCols, nr, panel,
        firstSliver, endSliver);
  }

  /** Runs tasks [first, end); consecutive tasks of one row block reuse its packed A block. */
  private void runTasks(int first, int end) {
    GemmScratch scratch = GemmScratch.ofCurrentThread();
    float[] packedA = scratch.packedA(ceilDiv(rowSlivers, rowBlocks) * mr * panelDepth);
    float[] edgeTile = scratch.edgeTile(mr * nr);
    int slivers = ceilDiv(panelCols, nr);
    int packedBlock = -1;
    for (int task = first; task < end; task++) {
      int block = task / columnParts;
      int part = task % columnParts;
      int row0 = blockStart(block);
      int rows = blockStart(block + 1) - row0;
      if (block != packedBlock) {
        GemmPacking.packRows(a, row0, rows, panelStep, panelDepth, mr, packedA);
        packedBlock = block;
      }
      int firstSliver = (int) ((long) slivers * part / columnParts);
      int endSliver = (int) ((long) slivers * (part + 1) / columnParts);
      multiplyBlock(packedA, row0, rows, firstSliver, endSliver, edgeTile);
    }
  }

  /** Multiplies the packed A block (rows [row0, row0 + rows)) by B slivers [first, end). */
  private void multiplyBlock(float[] packedA, int row0, int rows, int firstSliver,
      int endSliver, float[] edgeTile) {
    for (int s = firstSliver; s < endSliver; s++) {
      int col = panelCol + s * nr;
      int width = Math.min(nr, panelCol + panelCols - col);
      int bStart = s * nr * panelDepth;
      for (int r = 0; r < rows; r += mr) {
        int height = Math.min(mr, rows - r);
        int aStart = r * panelDepth;
        int cStart = cOffset + (row0 + r) * ldc + col;
        if (height == mr && width == nr) {
          kernel.multiplyTile(panelDepth, packedA, aStart, panel, bStart, c, cStart, ldc,
              panelBeta);
        } else {
          kernel.multiplyTile(panelDepth, packedA, aStart, panel, bStart, edgeTile, 0, nr, 0f);
          addEdgeTile(edgeTile, height, width, cStart);
        }
      }
    }
  }

  private void addEdgeTile(float[] tile, int height, int width, int cStart) {
    for (int i = 0; i < height; i++) {
      int row = cStart + i * ldc;
      for (int j = 0; j < width; j++) {
        float value = tile[i * nr + j];
        c[row + j] = panelBeta == 0f ? value : panelBeta * c[row + j] + value;
      }
    }
  }

  /**
   * The size, a multiple of {@code multiple}, of the fewest blocks of at most about {@code max}
   * that cover {@code extent} in equal parts.
   */
  private static int evenBlock(int extent, int max, int multiple) {
    int blocks = ceilDiv(extent, max);
    return ceilDiv(ceilDiv(extent, blocks), multiple) * multiple;
  }

  private static int ceilDiv(int x, int y) {
    return (x + y - 1) / y;
  }
}
