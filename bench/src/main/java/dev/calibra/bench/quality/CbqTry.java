package dev.calibra.bench.quality;

import dev.calibra.bench.SharedModelData;

import dev.calibra.calibration.QuantizedWeightSource;
import dev.calibra.calibration.cbq.CalibrationListener;
import dev.calibra.calibration.cbq.CbqCalibrator;
import dev.calibra.calibration.cbq.CbqRecipe;
import dev.calibra.calibration.rtn.RoundToNearest;
import dev.calibra.calibration.uniform.QuantizationScheme;
import dev.calibra.model.cpu.CpuBackend;
import dev.calibra.model.eval.PerplexityEvaluator;
import dev.calibra.model.llama.LayerwiseRunner;
import dev.calibra.model.llama.LlamaWeightSource;
import dev.calibra.storage.hf.ModelDirectory;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

/** Scratch experiment runner (temporary). */
public final class CbqTry {
  public static void main(String[] args) throws Exception {
    Path dir = Path.of(args[0]);
    int bits = Integer.parseInt(args[1]);
    int group = QuantizationScheme.parseGroupSize(args[2]);
    SharedModelData data = SharedModelData.load(dir);
    int firstWindows = 0;
    CpuBackend backend = new CpuBackend();
    CbqRecipe.Builder b = new CbqRecipe.Builder(new QuantizationScheme(bits, group));
    for (int i = 3; i < args.length; i++) {
      String[] kv = args[i].split("=");
      switch (kv[0]) {
        case "epochs" -> b.epochs(Integer.parseInt(kv[1]));
        case "rank" -> b.loraRank(Integer.parseInt(kv[1]));
        case "batch" -> b.batchSize(Integer.parseInt(kv[1]));
        case "lr" -> { String[] v = kv[1].split(","); b.learningRates(Float.parseFloat(v[0]), Float.parseFloat(v[1])); }
        case "clip" -> b.minInitialClip(Float.parseFloat(kv[1]));
        case "lwc" -> b.learnClipping(Boolean.parseBoolean(kv[1]));
        case "window" -> { String[] v = kv[1].split(","); b.window(Integer.parseInt(v[0]), Integer.parseInt(v[1])); }
        case "kl" -> b.kl(Float.parseFloat(kv[1]), 1f);
        case "reg" -> { String[] v = kv[1].split(","); b.regularizer(Float.parseFloat(v[0]), Float.parseFloat(v[1]), Float.parseFloat(v[2]), Float.parseFloat(v[3])); }
        case "samples" -> data = new SharedModelData(data.name(), data.directory(), data.calibration().subList(0, Integer.parseInt(kv[1])), data.evaluation());
        case "truncate" -> b.preprocessing(Boolean.parseBoolean(kv[1]), true);
        case "scales" -> b.searchChannelScales(Boolean.parseBoolean(kv[1]));
        case "logit" -> b.logitLoss(Float.parseFloat(kv[1]));
        case "tau" -> b.roundingTemperatureEnd(Float.parseFloat(kv[1]));
        case "first" -> firstWindows = Integer.parseInt(kv[1]);
        case "abits" -> b.activations(Integer.parseInt(kv[1]), 0.5f);
        default -> throw new IllegalArgumentException(kv[0]);
      }
    }
    CbqRecipe recipe = b.build();
    System.out.println(recipe);
    try (ModelDirectory model = ModelDirectory.open(dir.toString())) {
      LlamaWeightSource w = model.weights();
      LayerwiseRunner runner = new LayerwiseRunner(backend, 8192, (i, n, t) -> { });
      double rtn = new PerplexityEvaluator(runner).evaluate(new QuantizedWeightSource(w,
          new RoundToNearest(recipe.scheme()), null, q -> { }), data.evaluation()).value();
      System.out.printf("RTN %s ppl %.3f%n", recipe.label(), rtn);
      long t0 = System.nanoTime();
      CalibrationListener listener = new CalibrationListener() {
        public void windowDone(WindowReport r) {
          System.out.printf("window %d [%d,%d] %.1fs start %.5f end %.5f epochs %s reg %s%n", r.index(), r.firstBlock(), r.lastBlock(), r.seconds(),
              r.losses().start(), r.losses().end(), fmt(r.losses().epochMeans()), fmt(r.losses().epochRegularizerMeans()));
        }
        public void blockDone(dev.calibra.calibration.QuantizedBlock q) { }
      };
      CbqCalibrator calibrator = new CbqCalibrator(backend, recipe, listener);
      LlamaWeightSource calibrated;
      if (firstWindows > 0) {
        var windows = dev.calibra.partitioning.WindowLayout.of(w.config().numLayers(), recipe.windowSize(), recipe.overlap()).subList(0, firstWindows);
        int handOff = windows.get(firstWindows - 1).last();
        var outcome = calibrator.calibrateWindows(w, calibrator.embed(w, data.calibration()), windows, handOff, java.util.List.of());
        java.util.Map<Integer, dev.calibra.model.llama.BlockWeights> done = new java.util.HashMap<>();
        outcome.finished().forEach(q -> done.put(q.index(), q.dequantized()));
        calibrated = new LlamaWeightSource() {
          public dev.calibra.model.llama.LlamaConfig config() { return w.config(); }
          public dev.calibra.model.backend.Tensor embedding(dev.calibra.model.backend.Backend b) { return w.embedding(b); }
          public dev.calibra.model.llama.BlockWeights block(int i, dev.calibra.model.backend.Backend b) { return done.containsKey(i) ? done.get(i) : w.block(i, b); }
          public dev.calibra.model.backend.Tensor finalNorm(dev.calibra.model.backend.Backend b) { return w.finalNorm(b); }
          public dev.calibra.model.backend.Tensor lmHead(dev.calibra.model.backend.Backend b) { return w.lmHead(b); }
        };
        System.out.println("finished blocks " + done.keySet());
      } else {
        calibrated = calibrator.calibrate(w, data.calibration());
      }
      double secs = (System.nanoTime() - t0) / 1e9;
      double ppl = new PerplexityEvaluator(runner).evaluate(calibrated, data.evaluation()).value();
      System.out.printf("CBQ %s ppl %.3f (calibration %.1fs)%n", recipe.label(), ppl, secs);
      if (Boolean.getBoolean("evalcalib")) {
        java.util.List<int[]> calib = data.calibration().subList(0, Math.min(32, data.calibration().size()));
        double f = new PerplexityEvaluator(runner).evaluate(w, calib).value();
        double r = new PerplexityEvaluator(runner).evaluate(new QuantizedWeightSource(w, new RoundToNearest(recipe.scheme()), null, q -> { }), calib).value();
        double c = new PerplexityEvaluator(runner).evaluate(calibrated, calib).value();
        System.out.printf("on calibration samples: float %.3f RTN %.3f CBQ %.3f%n", f, r, c);
      }
    }
  }
  static String fmt(double[] v) {
    StringBuilder s = new StringBuilder();
    for (double d : v) s.append(String.format("%.5f ", d));
    return s.toString();
  }
}
