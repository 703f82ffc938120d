package dev.calibra.tokenizers;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The "decoder" of a tokenizer.json: turns the tokens of some ids back into text. Like the
 * library's decoders, each step maps a list of strings to a list of strings, and the result is
 * their concatenation.
 */
interface TokenDecoder {

  List<String> decode(List<String> tokens);

  static TokenDecoder fromJson(JsonNode node, String location) {
    String type = TokenizerJson.type(node, "decoder", location);
    return switch (type) {
      case "Sequence" -> sequence(node, location);
      case "Replace" -> {
        Pattern pattern = TokenizerJson.pattern(node, "Replace decoder", location);
        String replacement = Matcher.quoteReplacement(
            TokenizerJson.text(node, "content", "Replace decoder", location));
        yield tokens -> tokens.stream()
            .map(token -> pattern.matcher(token).replaceAll(replacement))
            .toList();
      }
      case "ByteFallback" -> TokenDecoder::joinByteTokens;
      case "Fuse" -> tokens -> List.of(String.join("", tokens));
      case "Strip" -> {
        int content = TokenizerJson.character(node, "content", "Strip decoder", location);
        int start = node.path("start").asInt(0);
        int stop = node.path("stop").asInt(0);
        yield tokens -> tokens.stream().map(token -> strip(token, content, start, stop)).toList();
      }
      case "Metaspace" -> Metaspace.fromJson(node, location)::decode;
      case "ByteLevel" -> tokens -> List.of(ByteLevel.decode(tokens));
      default -> throw TokenizerJson.unsupported(location, "decoder", type,
          "Sequence, Replace, ByteFallback, Fuse, Strip, Metaspace, ByteLevel");
    };
  }

  private static TokenDecoder sequence(JsonNode node, String location) {
    List<TokenDecoder> steps = new ArrayList<>();
    for (JsonNode step : TokenizerJson.array(node, "decoders", "decoder", location)) {
      steps.add(fromJson(step, location));
    }
    return tokens -> {
      for (TokenDecoder step : steps) {
        tokens = step.decode(tokens);
      }
      return tokens;
    };
  }

  /**
   * Byte tokens {@code <0xXX>} in a row become the text they spell, or, when that is not
   * well-formed UTF-8, one U+FFFD per byte: the library's all-or-nothing policy.
   */
  private static List<String> joinByteTokens(List<String> tokens) {
    List<String> joined = new ArrayList<>(tokens.size());
    ByteArrayOutputStream run = new ByteArrayOutputStream();
    for (String token : tokens) {
      int value = byteValue(token);
      if (value >= 0) {
        run.write(value);
        continue;
      }
      flushByteRun(run, joined);
      joined.add(token);
    }
    flushByteRun(run, joined);
    return joined;
  }

  private static void flushByteRun(ByteArrayOutputStream run, List<String> joined) {
    if (run.size() == 0) {
      return;
    }
    String text = Utf8.decodeIfWellFormed(run.toByteArray(), run.size());
    if (text != null) {
      joined.add(text);
    } else {
      for (int i = 0; i < run.size(); i++) {
        joined.add(String.valueOf(Utf8.REPLACEMENT));
      }
    }
    run.reset();
  }

  /** The byte of a token {@code <0xXX>}, or -1 for any other token. */
  private static int byteValue(String token) {
    if (token.length() != 6 || !token.startsWith("<0x") || !token.endsWith(">")) {
      return -1;
    }
    int high = Character.digit(token.charAt(3), 16);
    int low = Character.digit(token.charAt(4), 16);
    return high < 0 || low < 0 ? -1 : high * 16 + low;
  }

  /** Removes up to {@code start} leading and {@code stop} trailing {@code content} characters. */
  private static String strip(String token, int content, int start, int stop) {
    int[] chars = token.codePoints().toArray();
    int from = 0;
    while (from < start && from < chars.length && chars[from] == content) {
      from++;
    }
    int to = chars.length;
    while (chars.length - to < stop && to > from && chars[to - 1] == content) {
      to--;
    }
    return new String(chars, from, to - from);
  }
}
