package dev.calibra.storage.hf;

/**
 * The raw bytes of a model's tokenizer file, for the tokenizers module to parse.
 *
 * @param location where it was read from, for messages
 * @param bytes the file's content, not copied
 */
public record TokenizerFile(Kind kind, String location, byte[] bytes) {

  /**
   * The tokenizer formats a model directory may hold, in the order they are looked for: where a
   * model ships both, the SentencePiece model is the original and tokenizer.json a conversion.
   */
  public enum Kind {
    /** A SentencePiece model protobuf (Llama 1/2, Mistral). */
    SENTENCEPIECE("tokenizer.model"),
    /** A Hugging Face tokenizers JSON (Llama 3, Qwen2 and most newer models). */
    HUGGING_FACE_JSON("tokenizer.json");

    private final String fileName;

    Kind(String fileName) {
      this.fileName = fileName;
    }

    public String fileName() {
      return fileName;
    }
  }
}
