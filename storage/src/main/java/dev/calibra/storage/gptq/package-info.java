/**
 * Export of an artifact to the GPTQ checkpoint layout (qweight, qzeros, scales, g_idx) that
 * transformers and vLLM load; the layout is specified in storage/ARTIFACT.md.
 */
package dev.calibra.storage.gptq;
