/**
 * The safetensors format: a strictly validated header, tensors decoded to float32 on demand
 * (memory-mapped locally, positional reads elsewhere), single-file and sharded checkpoints.
 */
package dev.calibra.storage.safetensors;
