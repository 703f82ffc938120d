package dev.calibra.tokenizers;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * Turns the bytes of byte-fallback tokens back into text. The two libraries treat malformed
 * UTF-8 differently, and a decoder must copy the one its tokenizer came from.
 */
final class Utf8 {

  static final char REPLACEMENT = '\uFFFD';

  private Utf8() {}

  /**
   * SentencePiece's policy: well-formed characters are decoded, and every byte that does not
   * start one becomes U+FFFD on its own.
   */
  static void appendReplacingEachBadByte(byte[] bytes, int length, StringBuilder out) {
    int offset = 0;
    while (offset < length) {
      int characterLength = wellFormedLength(bytes, offset, length);
      if (characterLength == 0) {
        out.append(REPLACEMENT);
        offset++;
      } else {
        out.append(new String(bytes, offset, characterLength, StandardCharsets.UTF_8));
        offset += characterLength;
      }
    }
  }

  /** The text of {@code bytes} when they are well-formed UTF-8, else null. */
  static String decodeIfWellFormed(byte[] bytes, int length) {
    try {
      return StandardCharsets.UTF_8.newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(bytes, 0, length))
          .toString();
    } catch (CharacterCodingException e) {
      return null;
    }
  }

  /**
   * The length of the well-formed character starting at {@code offset} (Unicode table 3-7: no
   * overlong forms, no surrogates, nothing above U+10FFFF), or 0 when there is none.
   */
  private static int wellFormedLength(byte[] bytes, int offset, int length) {
    int lead = bytes[offset] & 0xFF;
    if (lead < 0x80) {
      return 1;
    }
    int size;
    int secondLow = 0x80;
    int secondHigh = 0xBF;
    if (lead >= 0xC2 && lead <= 0xDF) {
      size = 2;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
      size = 3;
      if (lead == 0xE0) {
        secondLow = 0xA0;
      } else if (lead == 0xED) {
        secondHigh = 0x9F;
      }
    } else if (lead >= 0xF0 && lead <= 0xF4) {
      size = 4;
      if (lead == 0xF0) {
        secondLow = 0x90;
      } else if (lead == 0xF4) {
        secondHigh = 0x8F;
      }
    } else {
      return 0;
    }
    if (offset + size > length) {
      return 0;
    }
    int second = bytes[offset + 1] & 0xFF;
    if (second < secondLow || second > secondHigh) {
      return 0;
    }
    for (int i = 2; i < size; i++) {
      int continuation = bytes[offset + i] & 0xFF;
      if (continuation < 0x80 || continuation > 0xBF) {
        return 0;
      }
    }
    return size;
  }
}
