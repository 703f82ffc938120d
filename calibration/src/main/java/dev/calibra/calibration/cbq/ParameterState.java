package dev.calibra.calibration.cbq;

/**
 * A learnable parameter as plain arrays: its value, Adam moments and step count. This is what a
 * block carries from one shard of a calibration to the next, so that a calibration cut into
 * shards learns exactly what an uncut one does.
 */
public record ParameterState(int rows, int cols, float[] value, float[] firstMoment,
    float[] secondMoment, int steps) {

  public ParameterState {
    int size = rows * cols;
    if (value.length != size || firstMoment.length != size || secondMoment.length != size) {
      throw new IllegalArgumentException("parameter state of " + rows + "×" + cols
          + " needs " + size + " values per array");
    }
    if (steps < 0) {
      throw new IllegalArgumentException("negative Adam step count " + steps);
    }
  }
}
