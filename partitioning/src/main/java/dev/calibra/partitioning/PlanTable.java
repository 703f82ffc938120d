package dev.calibra.partitioning;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** Renders a {@link CalibrationPlan} as the text table drivers log. */
final class PlanTable {

  private PlanTable() {}

  static String of(CalibrationPlan plan) {
    StringBuilder out = new StringBuilder();
    appendInputs(out, plan);
    out.append('\n');
    appendExecutors(out, plan);
    out.append('\n');
    appendShards(out, plan);
    out.append("\nestimated time ").append(Units.duration(plan.estimatedSeconds()))
        .append(plan.schedule() == Schedule.SEQUENTIAL
            ? " (sequential: the shards' times added up)"
            : " (parallel: the busiest executor's time)")
        .append('\n');
    return out.toString();
  }

  /** The model, the recipe and the estimates every shard is built from. */
  private static void appendInputs(StringBuilder out, CalibrationPlan plan) {
    ModelShape m = plan.model();
    RecipeShape r = plan.recipe();
    BlockMemory b = plan.blockMemory();
    WindowMemory w = plan.windowMemory();
    out.append("CBQ calibration plan, ").append(plan.schedule().name().toLowerCase(Locale.ROOT))
        .append(" schedule\n");
    out.append(String.format(Locale.ROOT,
        "model       %d blocks, hidden %d, intermediate %d, %d heads (%d kv) × %d, vocab %d: %s\n",
        m.blocks(), m.hiddenSize(), m.intermediateSize(), m.numHeads(), m.numKeyValueHeads(),
        m.headDim(), m.vocabSize(), Units.parameters(m.parameters())));
    out.append(String.format(Locale.ROOT,
        "recipe      windows of %d blocks overlapping %d → %d windows; LoRA rank %d; %s; "
            + "%d samples × %d tokens, batch %d, %d epochs%s\n",
        r.windowSize(), r.overlap(), plan.windows().size(), r.loraRank(), r.schemeLabel(),
        r.samples(), r.seqLen(), r.batchSize(), r.epochs(),
        r.activationQuantization() ? "; activations quantized" : ""));
    out.append("per block   float weights ").append(Units.bytes(b.floatWeights()))
        .append("; training ").append(Units.bytes(b.training()))
        .append(" = quantized ").append(Units.bytes(b.quantizedWeights()))
        .append(" + weight gradients ").append(Units.bytes(b.weightGradients()))
        .append(" + quantizer state ").append(Units.bytes(b.quantizerState()))
        .append(" + learnable ").append(Units.bytes(b.learnable()))
        .append(" + activations ").append(Units.bytes(b.activations()))
        .append("; packed ").append(Units.bytes(b.packedResult()))
        .append("; ").append(Units.flops(plan.blockFlopsPerWindow()))
        .append(" in each window it is in\n");
    out.append("per window  ").append(Units.bytes(w.total()))
        .append(" = calibration data ").append(Units.bytes(w.calibrationData()))
        .append(" + batch ").append(Units.bytes(w.batchTensors()))
        .append(" + backward scratch ").append(Units.bytes(w.backwardScratch()))
        .append(" + rounding scratch ").append(Units.bytes(w.roundingScratch())).append('\n');
    out.append("safety      ").append(Units.percent(plan.safetyMargin()))
        .append(" of each executor's memory left free");
    // The backend's own share, where an executor's kind keeps one (a GPU's pack cache).
    plan.executors().stream().map(ExecutorSpec::kind).distinct()
        .filter(kind -> kind.reservedFraction() > 0)
        .forEach(kind -> out.append("; a ").append(kind).append("'s backend keeps ")
            .append(Units.percent(kind.reservedFraction())).append(" more"));
    out.append('\n');
  }

  private static void appendExecutors(StringBuilder out, CalibrationPlan plan) {
    List<String[]> executors = new ArrayList<>();
    executors.add(new String[] {"executor", "kind", "memory", "usable", "throughput", "shards",
        "busy"});
    for (int e = 0; e < plan.executors().size(); e++) {
      ExecutorSpec x = plan.executors().get(e);
      int index = e;
      long count = plan.shards().stream().filter(s -> s.executor() == index).count();
      executors.add(new String[] {x.name(), x.kind().name(), Units.bytes(x.memoryBytes()),
          Units.bytes(x.usableBytes(plan.safetyMargin())), Units.rate(x.flopsPerSecond()),
          Long.toString(count), count == 0 ? "idle" : Units.duration(plan.busySeconds(e))});
    }
    appendColumns(out, executors);
  }

  private static void appendShards(StringBuilder out, CalibrationPlan plan) {
    List<String[]> shards = new ArrayList<>();
    shards.add(new String[] {"shard", "windows", "trains", "owns", "warm-up", "carried",
        "float input", "executor", "round", "peak memory", "time"});
    for (Shard s : plan.shards()) {
      shards.add(new String[] {Integer.toString(s.index()), s.windowLabel(),
          s.trainedBlocks().label(), s.ownedBlocks().label(), s.warmUpBlocks().label(),
          s.carriedBlocks().label(), "block " + s.floatInputBlock(), s.executorName(),
          Integer.toString(s.round()), Units.bytes(s.peakBytes()), Units.duration(s.seconds())});
    }
    appendColumns(out, shards);
  }

  private static void appendColumns(StringBuilder out, List<String[]> rows) {
    int[] widths = new int[rows.get(0).length];
    for (String[] row : rows) {
      for (int c = 0; c < row.length; c++) {
        widths[c] = Math.max(widths[c], row[c].length());
      }
    }
    for (String[] row : rows) {
      StringBuilder line = new StringBuilder();
      for (int c = 0; c < row.length; c++) {
        line.append(row[c]).append(" ".repeat(widths[c] - row[c].length() + 2));
      }
      out.append(line.toString().stripTrailing()).append('\n');
    }
  }
}
