/**
 * Hugging Face model directories of the Llama family: config.json to
 * {@link dev.calibra.model.llama.LlamaConfig}, safetensors weights as a
 * {@link dev.calibra.model.llama.LlamaWeightSource}, and the tokenizer file's bytes.
 */
package dev.calibra.storage.hf;
