/**
 * The Calibra artifact: one Arrow IPC file per quantized model, one record batch per tensor,
 * specified in storage/ARTIFACT.md. {@link dev.calibra.storage.artifact.ArtifactWriter} commits
 * it atomically on any Hadoop file system, {@link dev.calibra.storage.artifact.ArtifactReader}
 * verifies every row's checksum, {@link dev.calibra.storage.artifact.ArtifactMerger} joins the
 * part files of a distributed run, and {@link dev.calibra.storage.artifact.ArtifactWeightSource}
 * serves the dequantized model to the decoder.
 */
package dev.calibra.storage.artifact;
