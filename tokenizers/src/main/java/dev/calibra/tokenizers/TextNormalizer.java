package dev.calibra.tokenizers;

import com.fasterxml.jackson.databind.JsonNode;
import java.text.Normalizer;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The "normalizer" of a tokenizer.json: rewrites text before it is split into words. */
interface TextNormalizer {

  String normalize(String text);

  /** The normalizer a tokenizer.json describes; null there means none. */
  static TextNormalizer fromJson(JsonNode node, String location) {
    if (node == null || node.isNull()) {
      return text -> text;
    }
    String type = TokenizerJson.type(node, "normalizer", location);
    return switch (type) {
      case "Sequence" -> sequence(node, location);
      case "Prepend" -> {
        String prefix = TokenizerJson.text(node, "prepend", "Prepend normalizer", location);
        yield text -> text.isEmpty() ? text : prefix + text;
      }
      case "Replace" -> {
        Pattern pattern = TokenizerJson.pattern(node, "Replace normalizer", location);
        String replacement = Matcher.quoteReplacement(
            TokenizerJson.text(node, "content", "Replace normalizer", location));
        yield text -> pattern.matcher(text).replaceAll(replacement);
      }
      case "NFC" -> text -> Normalizer.normalize(text, Normalizer.Form.NFC);
      case "NFD" -> text -> Normalizer.normalize(text, Normalizer.Form.NFD);
      case "NFKC" -> text -> Normalizer.normalize(text, Normalizer.Form.NFKC);
      case "NFKD" -> text -> Normalizer.normalize(text, Normalizer.Form.NFKD);
      default -> throw TokenizerJson.unsupported(location, "normalizer", type,
          "Sequence, Prepend, Replace, NFC, NFD, NFKC, NFKD");
    };
  }

  private static TextNormalizer sequence(JsonNode node, String location) {
    List<TextNormalizer> steps = new ArrayList<>();
    for (JsonNode step : TokenizerJson.array(node, "normalizers", "normalizer", location)) {
      steps.add(fromJson(step, location));
    }
    return text -> {
      for (TextNormalizer step : steps) {
        text = step.normalize(text);
      }
      return text;
    };
  }
}
