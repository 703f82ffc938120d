package dev.calibra.jobs.notebook;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.calibra.jobs.notebook.QuantizedModel.LayerError;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The notebook tables, in Zeppelin's %table format (the runs are tested on the real note). */
class CalibraTablesTest {

  private static final QuantizedModel RTN = new QuantizedModel("out/rtn.arrow", 1_250_000,
      "rtn w4 g32", 156.59, 17.857, List.of(new LayerError(0, "self_attn.q_proj", 0.0125),
          new LayerError(0, "mlp.down_proj", 0.02)));
  private static final QuantizedModel CBQ = new QuantizedModel("out/cbq.arrow", 1_300_000,
      "cbq w4 g32", 95.25, 17.857, List.of(new LayerError(0, "mlp.down_proj", 0.01),
          new LayerError(0, "self_attn.q_proj", 0.005)));

  @Test
  void perplexityTableHasARowPerModel() {
    assertEquals("%table recipe\tfloat perplexity\tquantized perplexity\tartifact\tMB\n"
        + "rtn w4 g32\t17.8570\t156.5900\tout/rtn.arrow\t1.25\n"
        + "cbq w4 g32\t17.8570\t95.2500\tout/cbq.arrow\t1.30\n",
        Calibra.perplexityTable(RTN, CBQ));
  }

  @Test
  void layerTableMatchesLayersByNameNotPosition() {
    QuantizedModel partial = new QuantizedModel("out/p.arrow", 1, "cbq w3 g32", 200, 17.857,
        List.of(new LayerError(0, "mlp.down_proj", 0.5)));
    assertEquals("%table block\tlayer\trtn w4 g32\tcbq w4 g32\tcbq w3 g32\n"
        + "0\tself_attn.q_proj\t1.2500e-02\t5.0000e-03\tNaN\n"
        + "0\tmlp.down_proj\t2.0000e-02\t1.0000e-02\t5.0000e-01\n",
        Calibra.layerErrorTable(RTN, CBQ, partial));
  }

  @Test
  void aModelShowsAsOneLine() {
    assertEquals("rtn w4 g32: perplexity 156.5900 (float 17.8570), 2 layers, out/rtn.arrow",
        RTN.toString());
  }
}
