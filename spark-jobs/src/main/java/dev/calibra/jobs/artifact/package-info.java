/**
 * From calibration results to artifacts: the conversion of quantized matrices into artifact
 * rows, and the recorder that writes a run's parts and merges them with its metrics.
 */
package dev.calibra.jobs.artifact;
