package dev.calibra.calibration.cbq;

import dev.calibra.calibration.QuantizedBlock;

/** Told of a calibration's progress: after each window and as each block is finished. */
public interface CalibrationListener {

  CalibrationListener SILENT = new CalibrationListener() {
    @Override
    public void windowDone(WindowReport report) {}

    @Override
    public void blockDone(QuantizedBlock block) {}
  };

  void windowDone(WindowReport report);

  void blockDone(QuantizedBlock block);

  /**
   * One window's outcome.
   *
   * @param index the window's position in the schedule, from 0
   * @param windows number of windows in the schedule
   * @param firstBlock first block of the window
   * @param lastBlock last block of the window, inclusive
   * @param losses its losses before, during and after calibration
   * @param seconds wall time of the window, data preparation included
   */
  record WindowReport(int index, int windows, int firstBlock, int lastBlock, WindowLosses losses,
      double seconds) {}
}
