package dev.calibra.tokenizers;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/**
 * The BPE "model" of a tokenizer.json, encoding one word as the Hugging Face tokenizers
 * library does: start from its characters (bytes tokens or the unknown token for characters
 * outside the vocabulary), then repeatedly apply the merge listed earliest among those that
 * apply anywhere in the word, the leftmost on ties.
 */
final class BpeModel {

  private final Map<String, Integer> vocabulary;
  private final String[] tokens;
  /** Rank (position in the merges list) of each mergeable pair of ids. */
  private final IdPairMap mergeRanks;
  /** The id each rank's merge produces. */
  private final int[] mergedIds;
  /** Id of the byte tokens {@code <0x00>}..{@code <0xFF>}, -1 where absent. */
  private final int[] byteIds = new int[256];
  private final boolean byteFallback;
  private final int unknownId;
  private final boolean fuseUnknown;
  /** "ignore_merges": a word that is itself a token is taken whole (Llama 3). */
  private final boolean wholeWordsFirst;

  private BpeModel(Map<String, Integer> vocabulary, IdPairMap mergeRanks, int[] mergedIds,
      boolean byteFallback, int unknownId, boolean fuseUnknown,
      boolean wholeWordsFirst) {
    this.vocabulary = vocabulary;
    this.mergeRanks = mergeRanks;
    this.mergedIds = mergedIds;
    this.byteFallback = byteFallback;
    this.unknownId = unknownId;
    this.fuseUnknown = fuseUnknown;
    this.wholeWordsFirst = wholeWordsFirst;
    int size = vocabulary.values().stream().mapToInt(Integer::intValue).max().orElse(-1) + 1;
    this.tokens = new String[size];
    vocabulary.forEach((token, id) -> tokens[id] = token);
    for (int b = 0; b < 256; b++) {
      byteIds[b] = vocabulary.getOrDefault(String.format("<0x%02X>", b), -1);
    }
  }

  static BpeModel fromJson(JsonNode model, String location) {
    String type = TokenizerJson.type(model, "model", location);
    if (!type.equals("BPE")) {
      throw TokenizerJson.unsupported(location, "model", type, "BPE");
    }
    if (model.path("dropout").asDouble(0) > 0) {
      throw new TokenizerException(location + ": BPE dropout is not supported (it makes"
          + " encoding random)");
    }
    for (String affix : new String[] {"continuing_subword_prefix", "end_of_word_suffix"}) {
      if (model.hasNonNull(affix) && !model.get(affix).asText().isEmpty()) {
        throw new TokenizerException(location + ": BPE " + affix + " is not supported");
      }
    }
    Map<String, Integer> vocabulary = readVocabulary(model, location);
    JsonNode merges = TokenizerJson.array(model, "merges", "model", location);
    IdPairMap mergeRanks = new IdPairMap(merges.size());
    int[] mergedIds = new int[merges.size()];
    int rank = 0;
    for (JsonNode merge : merges) {
      String[] pair = mergePair(merge, rank, location);
      if (pair == null) {
        continue;
      }
      int left = requireToken(vocabulary, pair[0], location);
      int right = requireToken(vocabulary, pair[1], location);
      mergedIds[rank] = requireToken(vocabulary, pair[0] + pair[1], location);
      // A pair listed twice keeps its last rank, as in the library.
      mergeRanks.put(left, right, rank);
      rank++;
    }
    int unknownId = -1;
    if (model.hasNonNull("unk_token")) {
      unknownId = requireToken(vocabulary, model.get("unk_token").asText(), location);
    }
    return new BpeModel(vocabulary, mergeRanks, Arrays.copyOf(mergedIds, rank),
        TokenizerJson.flag(model, "byte_fallback", false), unknownId,
        TokenizerJson.flag(model, "fuse_unk", false),
        TokenizerJson.flag(model, "ignore_merges", false));
  }

  /** Appends the ids of one word. */
  void encode(String word, IntArrayBuilder out) {
    if (wholeWordsFirst) {
      Integer id = vocabulary.get(word);
      if (id != null) {
        out.add(id);
        return;
      }
    }
    new Word(initialSymbols(word)).mergeAll(out);
  }

  /** The token of an id, or null when the vocabulary has no such id. */
  String token(int id) {
    return id >= 0 && id < tokens.length ? tokens[id] : null;
  }

  /** The id of a token, or -1. */
  int idOf(String token) {
    return vocabulary.getOrDefault(token, -1);
  }

  /** One more than the largest id. */
  int size() {
    return tokens.length;
  }

  /**
   * One id per character; a character outside the vocabulary becomes its byte tokens when
   * byte fallback has them all, else the unknown token (a run of them one token when fused),
   * else nothing. The order of the appends copies the library's, quirks included: a pending
   * unknown token is only written out by the next known character.
   */
  private int[] initialSymbols(String word) {
    IntArrayBuilder symbols = new IntArrayBuilder();
    boolean unknownPending = false;
    for (int i = 0; i < word.length(); ) {
      int end = i + Character.charCount(word.codePointAt(i));
      String character = word.substring(i, end);
      i = end;
      Integer id = vocabulary.get(character);
      if (id == null && byteFallback && addByteTokens(character, symbols)) {
        continue;
      }
      if (id != null) {
        if (unknownPending) {
          symbols.add(unknownId);
          unknownPending = false;
        }
        symbols.add(id);
      } else if (unknownId >= 0) {
        if (unknownPending && !fuseUnknown) {
          symbols.add(unknownId);
        }
        unknownPending = true;
      }
    }
    if (unknownPending) {
      symbols.add(unknownId);
    }
    return symbols.toArray();
  }

  private boolean addByteTokens(String character, IntArrayBuilder symbols) {
    byte[] bytes = character.getBytes(StandardCharsets.UTF_8);
    for (byte b : bytes) {
      if (byteIds[b & 0xFF] < 0) {
        return false;
      }
    }
    for (byte b : bytes) {
      symbols.add(byteIds[b & 0xFF]);
    }
    return true;
  }

  /** One word's symbols, linked in a list that merges shorten. */
  private final class Word {

    private final int[] symbols;
    private final int[] previous;
    private final int[] next;
    private final boolean[] removed;
    /**
     * Candidate merges packed as rank << 32 | position, so that the heap pops the lowest rank,
     * then the leftmost position.
     */
    private final LongMinHeap candidates = new LongMinHeap();

    Word(int[] symbols) {
      this.symbols = symbols;
      int count = symbols.length;
      previous = new int[count];
      next = new int[count];
      removed = new boolean[count];
      for (int i = 0; i < count; i++) {
        previous[i] = i - 1;
        next[i] = i + 1 < count ? i + 1 : -1;
      }
    }

    /** Applies every merge that applies, best rank first, then appends the ids. */
    void mergeAll(IntArrayBuilder out) {
      for (int i = 0; i + 1 < symbols.length; i++) {
        addCandidate(i, i + 1);
      }
      while (!candidates.isEmpty()) {
        long candidate = candidates.pop();
        int rank = (int) (candidate >>> 32);
        int position = (int) candidate;
        int right = next[position];
        if (removed[position] || right < 0) {
          continue;
        }
        // An outdated candidate: the pair there now no longer makes the same token.
        int currentRank = rankOf(symbols[position], symbols[right]);
        if (currentRank < 0 || mergedIds[currentRank] != mergedIds[rank]) {
          continue;
        }
        symbols[position] = mergedIds[rank];
        removed[right] = true;
        next[position] = next[right];
        if (next[right] >= 0) {
          previous[next[right]] = position;
        }
        addCandidate(previous[position], position);
        addCandidate(position, next[position]);
      }
      for (int i = symbols.length == 0 ? -1 : 0; i >= 0; i = next[i]) {
        out.add(symbols[i]);
      }
    }

    private void addCandidate(int left, int right) {
      if (left < 0 || right < 0) {
        return;
      }
      int rank = rankOf(symbols[left], symbols[right]);
      if (rank >= 0) {
        candidates.push((long) rank << 32 | left);
      }
    }
  }

  private int rankOf(int left, int right) {
    return mergeRanks.get(left, right);
  }

  private static Map<String, Integer> readVocabulary(JsonNode model, String location) {
    JsonNode vocab = model.get("vocab");
    if (vocab == null || !vocab.isObject()) {
      throw new TokenizerException(location + ": model has no object 'vocab'");
    }
    Map<String, Integer> vocabulary = new HashMap<>(vocab.size() * 2);
    for (Map.Entry<String, JsonNode> entry : vocab.properties()) {
      if (!entry.getValue().canConvertToInt() || entry.getValue().asInt() < 0) {
        throw new TokenizerException(location + ": vocab entry '" + entry.getKey()
            + "' has no valid id");
      }
      vocabulary.put(entry.getKey(), entry.getValue().asInt());
    }
    return vocabulary;
  }

  /**
   * A merge as ["a", "b"] or, in older files, "a b"; null for the "#version" line that old
   * merges.txt-derived lists start with.
   */
  private static String[] mergePair(JsonNode merge, int rank, String location) {
    if (merge.isArray() && merge.size() == 2) {
      return new String[] {merge.get(0).asText(), merge.get(1).asText()};
    }
    if (merge.isTextual()) {
      if (merge.asText().startsWith("#version")) {
        return null;
      }
      String[] parts = merge.asText().split(" ", -1);
      if (parts.length == 2) {
        return parts;
      }
    }
    throw new TokenizerException(location + ": merge " + rank + " is not a pair of tokens: "
        + merge);
  }

  private static int requireToken(Map<String, Integer> vocabulary, String token,
      String location) {
    Integer id = vocabulary.get(token);
    if (id == null) {
      throw new TokenizerException(location + ": token '" + token
          + "' of a merge or unk_token is not in the vocabulary");
    }
    return id;
  }
}
