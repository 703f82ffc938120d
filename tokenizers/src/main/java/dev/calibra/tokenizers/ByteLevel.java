package dev.calibra.tokenizers;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Pattern;

/**
 * The ByteLevel pre-tokenizer and decoder of byte-level BPE (GPT-2, Llama 3, Qwen2). GPT-2's
 * table gives each of the 256 byte values a printable character, so that any UTF-8 text becomes
 * a string of vocabulary characters: printable Latin-1 bytes stand for themselves, the others,
 * in order, take the characters from U+0100 on.
 */
final class ByteLevel {

  /** GPT-2's word pattern, used when the pre-tokenizer is asked to split words itself. */
  private static final Pattern GPT2_WORDS = Pattern.compile(
      "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+",
      Pattern.UNICODE_CHARACTER_CLASS);

  private static final char[] CHAR_OF_BYTE = new char[256];
  private static final int[] BYTE_OF_CHAR = new int[512];

  static {
    Arrays.fill(BYTE_OF_CHAR, -1);
    int next = 256;
    for (int b = 0; b < 256; b++) {
      boolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || b >= 0xAE;
      char c = printable ? (char) b : (char) next++;
      CHAR_OF_BYTE[b] = c;
      BYTE_OF_CHAR[c] = b;
    }
  }

  private final boolean addPrefixSpace;
  private final boolean splitWords;

  private ByteLevel(boolean addPrefixSpace, boolean splitWords) {
    this.addPrefixSpace = addPrefixSpace;
    this.splitWords = splitWords;
  }

  static ByteLevel fromJson(JsonNode node) {
    return new ByteLevel(TokenizerJson.flag(node, "add_prefix_space", true),
        TokenizerJson.flag(node, "use_regex", true));
  }

  /**
   * A space in front unless there is one (so that a text's first word looks like the others),
   * GPT-2's word split when asked, then bytes to characters.
   */
  List<TextPiece> split(TextPiece piece) {
    String text = piece.text();
    if (text.isEmpty()) {
      return List.of(); // the library adds no prefix space to empty text
    }
    if (addPrefixSpace && !text.startsWith(" ")) {
      text = " " + text;
    }
    TextPiece spaced = new TextPiece(text, piece.atInputStart());
    List<TextPiece> words = splitWords
        ? SplitBehavior.ISOLATED.split(spaced, GPT2_WORDS, false)
        : List.of(spaced);
    List<TextPiece> encoded = new ArrayList<>(words.size());
    for (TextPiece word : words) {
      encoded.add(new TextPiece(encode(word.text()), word.atInputStart()));
    }
    return encoded;
  }

  /**
   * Joins the tokens' bytes into text. A token with characters outside the table (an added
   * token such as "<|endoftext|>" is stored as plain text) contributes its own UTF-8; malformed
   * UTF-8 becomes U+FFFD, one per maximal bad sequence, as Rust's from_utf8_lossy does.
   */
  static String decode(List<String> tokens) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    for (String token : tokens) {
      bytes.writeBytes(bytesOf(token));
    }
    return bytes.toString(StandardCharsets.UTF_8);
  }

  private static String encode(String text) {
    byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
    char[] chars = new char[bytes.length];
    for (int i = 0; i < bytes.length; i++) {
      chars[i] = CHAR_OF_BYTE[bytes[i] & 0xFF];
    }
    return new String(chars);
  }

  private static byte[] bytesOf(String token) {
    byte[] bytes = new byte[token.length()];
    for (int i = 0; i < token.length(); i++) {
      char c = token.charAt(i);
      int b = c < BYTE_OF_CHAR.length ? BYTE_OF_CHAR[c] : -1;
      if (b < 0) {
        return token.getBytes(StandardCharsets.UTF_8);
      }
      bytes[i] = (byte) b;
    }
    return bytes;
  }
}
