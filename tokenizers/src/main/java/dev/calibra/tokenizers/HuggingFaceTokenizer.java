package dev.calibra.tokenizers;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A Hugging Face {@code tokenizer.json} with a BPE model, encoding and decoding as the
 * {@code tokenizers} library does. Two families are supported: SentencePiece-style BPE with
 * byte fallback (Llama 2, Mistral: a Metaspace pre-tokenizer or a Prepend/Replace normalizer)
 * and byte-level BPE (GPT-2, Llama 3, Qwen2: ByteLevel, usually after a regex Split).
 * Components outside these families are refused when loading.
 *
 * <p>BOS and EOS come from a {@code tokenizer_config.json} next to the file when there is one,
 * else from the conventional names among the added tokens.
 */
public final class HuggingFaceTokenizer implements Tokenizer {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final List<String> CONVENTIONAL_BOS =
      List.of("<s>", "<|begin_of_text|>", "<bos>");
  private static final List<String> CONVENTIONAL_EOS =
      List.of("</s>", "<|end_of_text|>", "<|endoftext|>", "<eos>");

  private final String location;
  private final AddedTokens addedTokens;
  private final TextNormalizer normalizer;
  private final PreTokenizer preTokenizer;
  private final BpeModel model;
  /** Null when the file has none: the library then joins the tokens with spaces. */
  private final TokenDecoder decoder;
  private final int bosId;
  private final int eosId;

  private HuggingFaceTokenizer(JsonNode root, JsonNode config, String location) {
    this.location = location;
    this.model = BpeModel.fromJson(required(root, "model", location), location);
    this.normalizer = TextNormalizer.fromJson(root.get("normalizer"), location);
    this.preTokenizer = PreTokenizer.fromJson(root.get("pre_tokenizer"), location);
    this.addedTokens = AddedTokens.fromJson(root.get("added_tokens"), normalizer, location);
    JsonNode decoderNode = root.get("decoder");
    this.decoder = decoderNode == null || decoderNode.isNull()
        ? null : TokenDecoder.fromJson(decoderNode, location);
    this.bosId = specialTokenId(config, "bos_token", CONVENTIONAL_BOS);
    this.eosId = specialTokenId(config, "eos_token", CONVENTIONAL_EOS);
  }

  /** Loads a tokenizer.json, with BOS and EOS from a tokenizer_config.json beside it if any. */
  public static HuggingFaceTokenizer load(Path tokenizerJson) {
    JsonNode root = parse(TokenizerLoader.readFile(tokenizerJson), tokenizerJson.toString());
    Path configFile = tokenizerJson.resolveSibling("tokenizer_config.json");
    JsonNode config = Files.isRegularFile(configFile)
        ? parse(TokenizerLoader.readFile(configFile), configFile.toString())
        : JSON.createObjectNode();
    return new HuggingFaceTokenizer(root, config, tokenizerJson.toString());
  }

  /**
   * @param tokenizerJson the bytes of a tokenizer.json
   * @param location where they came from, for error messages
   */
  public static HuggingFaceTokenizer fromJson(byte[] tokenizerJson, String location) {
    return new HuggingFaceTokenizer(parse(tokenizerJson, location), JSON.createObjectNode(),
        location);
  }

  @Override
  public int[] encode(String text) {
    IntArrayBuilder ids = new IntArrayBuilder();
    for (AddedTokenMatcher.Segment raw : addedTokens.splitRaw(text)) {
      if (raw.isAddedToken()) {
        ids.add(raw.addedTokenId());
        continue;
      }
      String normalized = normalizer.normalize(raw.text());
      for (AddedTokenMatcher.Segment segment :
          addedTokens.splitNormalized(normalized, raw.atInputStart())) {
        if (segment.isAddedToken()) {
          ids.add(segment.addedTokenId());
          continue;
        }
        for (TextPiece word :
            preTokenizer.split(new TextPiece(segment.text(), segment.atInputStart()))) {
          if (!word.text().isEmpty()) {
            model.encode(word.text(), ids);
          }
        }
      }
    }
    return ids.toArray();
  }

  /** Decodes as the library does with skip_special_tokens: special added tokens give no text. */
  @Override
  public String decode(int[] ids) {
    List<String> tokens = new ArrayList<>(ids.length);
    for (int id : ids) {
      String token = addedTokens.text(id);
      if (token == null) {
        token = model.token(id);
      }
      if (token == null) {
        throw new IllegalArgumentException("token id " + id + " is not in the vocabulary of "
            + location);
      }
      if (!addedTokens.isSpecial(token)) {
        tokens.add(token);
      }
    }
    return decoder == null ? String.join(" ", tokens) : String.join("", decoder.decode(tokens));
  }

  @Override
  public int vocabSize() {
    return Math.max(model.size(), addedTokens.maxId() + 1);
  }

  @Override
  public int bosId() {
    return bosId;
  }

  @Override
  public int eosId() {
    return eosId;
  }

  @Override
  public String toString() {
    return "HuggingFaceTokenizer(" + location + ", " + vocabSize() + " ids)";
  }

  /**
   * A tokenizer_config.json names the token ("bos_token": "<s>" or {"content": "<s>"}), or
   * says there is none (null: Qwen2 has no BOS); without it, the conventional names are tried.
   */
  private int specialTokenId(JsonNode config, String field, List<String> conventionalNames) {
    JsonNode named = config.get(field);
    List<String> candidates;
    if (named == null) {
      candidates = conventionalNames;
    } else if (named.isNull()) {
      candidates = List.of();
    } else {
      candidates = List.of(named.isObject() ? named.path("content").asText() : named.asText());
    }
    for (String name : candidates) {
      int id = addedTokens.idOf(name);
      if (id < 0) {
        id = model.idOf(name);
      }
      if (id >= 0) {
        return id;
      }
    }
    return -1;
  }

  private static JsonNode parse(byte[] content, String location) {
    try {
      JsonNode root = JSON.readTree(content);
      if (root == null || !root.isObject()) {
        throw new TokenizerException(location + ": not a JSON object");
      }
      return root;
    } catch (IOException e) {
      throw new TokenizerException(location + ": not valid JSON: " + e.getMessage(), e);
    }
  }

  private static JsonNode required(JsonNode root, String field, String location) {
    JsonNode node = root.get(field);
    if (node == null || node.isNull()) {
      throw new TokenizerException(location + ": no '" + field + "'");
    }
    return node;
  }
}
