/**
 * Text to token ids and back, in pure Java, for the tokenizers of Llama-family models.
 *
 * <p>{@link dev.calibra.tokenizers.Tokenizer#load} picks the implementation:
 * {@link dev.calibra.tokenizers.SentencePieceTokenizer} for a SentencePiece
 * {@code tokenizer.model} (BPE, as in Llama 2 and Mistral), or
 * {@link dev.calibra.tokenizers.HuggingFaceTokenizer} for a Hugging Face {@code tokenizer.json}
 * (BPE with byte fallback, or byte-level BPE as in Llama 3 and Qwen2). Both reproduce their
 * reference library id for id; {@link dev.calibra.tokenizers.TextCorpus} lays text out for the
 * perplexity protocols.
 */
package dev.calibra.tokenizers;
