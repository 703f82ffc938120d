package dev.calibra.model.eval;

/** exp(mean negative log-likelihood) over {@code predictions} next-token predictions. */
public record Perplexity(double totalNll, long predictions) {

  public double value() {
    return Math.exp(totalNll / predictions);
  }

  public double meanNll() {
    return totalNll / predictions;
  }
}
