package dev.calibra.tokenizers;

/**
 * A tokenizer that cannot be loaded: a missing or unreadable file, a corrupt one, or a kind of
 * tokenizer this module does not implement. The message names the file and what is wrong.
 */
public final class TokenizerException extends RuntimeException {

  private static final long serialVersionUID = 1L;

  public TokenizerException(String message) {
    super(message);
  }

  public TokenizerException(String message, Throwable cause) {
    super(message, cause);
  }
}
