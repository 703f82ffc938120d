package dev.calibra.tokenizers;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * The "pre_tokenizer" of a tokenizer.json: splits text into the words the BPE model encodes
 * one at a time, and may rewrite them (spaces to '▁', bytes to the byte-level alphabet).
 */
interface PreTokenizer {

  /** The words of one piece of text; some may be empty. */
  List<TextPiece> split(TextPiece piece);

  /** The pre-tokenizer a tokenizer.json describes; null there means the text is one word. */
  static PreTokenizer fromJson(JsonNode node, String location) {
    if (node == null || node.isNull()) {
      return List::of;
    }
    String type = TokenizerJson.type(node, "pre_tokenizer", location);
    return switch (type) {
      case "Sequence" -> sequence(node, location);
      case "Split" -> {
        Pattern pattern = TokenizerJson.pattern(node, "Split pre_tokenizer", location);
        SplitBehavior behavior = SplitBehavior.fromJson(
            TokenizerJson.text(node, "behavior", "Split pre_tokenizer", location), location);
        boolean invert = TokenizerJson.flag(node, "invert", false);
        yield piece -> behavior.split(piece, pattern, invert);
      }
      case "Metaspace" -> Metaspace.fromJson(node, location)::split;
      case "ByteLevel" -> ByteLevel.fromJson(node)::split;
      default -> throw TokenizerJson.unsupported(location, "pre_tokenizer", type,
          "Sequence, Split, Metaspace, ByteLevel");
    };
  }

  /** Each step splits every non-empty piece the step before produced. */
  private static PreTokenizer sequence(JsonNode node, String location) {
    List<PreTokenizer> steps = new ArrayList<>();
    for (JsonNode step : TokenizerJson.array(node, "pretokenizers", "pre_tokenizer", location)) {
      steps.add(fromJson(step, location));
    }
    return piece -> {
      List<TextPiece> pieces = List.of(piece);
      for (PreTokenizer step : steps) {
        List<TextPiece> next = new ArrayList<>();
        for (TextPiece p : pieces) {
          if (!p.text().isEmpty()) {
            next.addAll(step.split(p));
          }
        }
        pieces = next;
      }
      return pieces;
    };
  }
}
