package dev.calibra.storage;

import java.io.IOException;

/**
 * A file could be read, but what it holds is malformed or not something Calibra can use: a
 * corrupt safetensors header, a config.json without a required field, a token id that is not an
 * integer. The message always names the file and, where there is one, the tensor, field or line.
 */
public class FileContentException extends IOException {

  private static final long serialVersionUID = 1L;

  public FileContentException(String message) {
    super(message);
  }

  public FileContentException(String message, Throwable cause) {
    super(message, cause);
  }
}
