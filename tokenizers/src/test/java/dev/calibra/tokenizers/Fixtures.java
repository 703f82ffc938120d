package dev.calibra.tokenizers;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.GZIPInputStream;

/**
 * The reference tokenizations under src/test/resources, made by the Hugging Face tokenizers and
 * sentencepiece libraries (src/test/python/make_hf_fixtures.py regenerates them).
 */
final class Fixtures {

  static final ObjectMapper JSON = new ObjectMapper();

  /** One text, the ids the library gave it, and the library's decoding of those ids. */
  record Case(int index, String text, int[] ids, String decoded) {}

  /** A cases file: the tokenizer it was made with, and its cases. */
  record CaseFile(String name, String description, byte[] tokenizer, List<Case> cases) {}

  private Fixtures() {}

  static byte[] resource(String name) {
    try (InputStream in = Fixtures.class.getResourceAsStream("/" + name)) {
      if (in == null) {
        throw new IllegalStateException("missing test resource " + name);
      }
      return name.endsWith(".gz") ? new GZIPInputStream(in).readAllBytes() : in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static JsonNode json(String name) {
    try {
      return JSON.readTree(resource(name));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The texts of all cases files, in case order. */
  static List<String> texts() {
    List<String> texts = new ArrayList<>();
    json("texts.json.gz").get("texts").forEach(text -> texts.add(text.asText()));
    return texts;
  }

  /**
   * Reads a cases file; its tokenizer's bytes have the file's "overrides" (replacement
   * top-level fields) applied.
   */
  static CaseFile cases(String name) {
    JsonNode file = json(name);
    List<String> texts = texts();
    List<Case> cases = new ArrayList<>();
    JsonNode entries = file.get("cases");
    for (int i = 0; i < entries.size(); i++) {
      JsonNode entry = entries.get(i);
      int[] ids = new int[entry.get("ids").size()];
      for (int j = 0; j < ids.length; j++) {
        ids[j] = entry.get("ids").get(j).asInt();
      }
      String text = texts.get(i);
      cases.add(new Case(i, text, ids, entry.path("decoded").asText(text)));
    }
    byte[] tokenizer = resource(file.get("tokenizer").asText());
    if (file.has("overrides")) {
      try {
        ObjectNode root = (ObjectNode) JSON.readTree(tokenizer);
        file.get("overrides").properties().forEach(e -> root.set(e.getKey(), e.getValue()));
        tokenizer = JSON.writeValueAsBytes(root);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    return new CaseFile(name, file.get("description").asText(), tokenizer, cases);
  }
}
