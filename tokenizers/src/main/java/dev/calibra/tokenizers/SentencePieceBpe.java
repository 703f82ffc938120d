package dev.calibra.tokenizers;

import dev.calibra.tokenizers.SentencePieceModel.PieceType;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * SentencePiece's BPE segmentation of normalized text, merge for merge the library's: start
 * from single characters (user-defined pieces kept whole), then repeatedly merge the adjacent
 * pair whose concatenation is the highest-scoring piece, the leftmost pair on ties. A heap of
 * candidate pairs and a linked list of symbols keep a long text O(n log n).
 */
final class SentencePieceBpe {

  private final SentencePieceVocabulary vocabulary;
  /** User-defined pieces by first character, longest first, for greedy longest matching. */
  private final Map<Character, List<String>> userDefinedByFirstChar = new HashMap<>();
  /**
   * The characters found in some mergeable piece of two or more characters; null when the
   * model has UNUSED pieces. A character outside this set is never merged, so the text on
   * either side of it can be segmented on its own: the same merges happen, in the same order
   * relative to each other, as in one pass over the whole text, whose queue of candidates would
   * grow with the text. With UNUSED pieces the library's way of splitting them back depends on
   * the order of all merges of the text, so the text is then taken in one pass.
   */
  private final BitSet mergeableCharacters;

  SentencePieceBpe(SentencePieceVocabulary vocabulary) {
    this.vocabulary = vocabulary;
    for (String piece : vocabulary.userDefinedPieces()) {
      userDefinedByFirstChar.computeIfAbsent(piece.charAt(0), c -> new ArrayList<>()).add(piece);
    }
    userDefinedByFirstChar.values()
        .forEach(list -> list.sort(Comparator.comparingInt(String::length).reversed()));
    this.mergeableCharacters = findMergeableCharacters(vocabulary);
  }

  /** Splits normalized text into pieces; a piece not in the vocabulary is a lone character. */
  List<String> segment(String text) {
    List<String> pieces = new ArrayList<>();
    int start = 0;
    if (mergeableCharacters != null) {
      for (int i = 0; i < text.length(); ) {
        int codePoint = text.codePointAt(i);
        int next = i + Character.charCount(codePoint);
        if (!mergeableCharacters.get(codePoint)) {
          new Segmentation(text.substring(start, i)).run(pieces);
          pieces.add(text.substring(i, next));
          start = next;
        }
        i = next;
      }
    }
    new Segmentation(text.substring(start)).run(pieces);
    return pieces;
  }

  private static BitSet findMergeableCharacters(SentencePieceVocabulary vocabulary) {
    BitSet characters = new BitSet();
    for (int id = 0; id < vocabulary.size(); id++) {
      String piece = vocabulary.text(id);
      PieceType type = vocabulary.type(id);
      if (type == PieceType.UNUSED) {
        return null;
      }
      boolean mergeable = type == PieceType.NORMAL || type == PieceType.USER_DEFINED;
      if (mergeable && piece.codePointCount(0, piece.length()) > 1) {
        piece.codePoints().forEach(characters::set);
      }
    }
    return characters;
  }

  /** The state of one text's segmentation: symbols are [start, end) ranges of the text. */
  private final class Segmentation {

    private final String text;
    private final int[] start;
    private final int[] end;
    private final int[] previous;
    private final int[] next;
    /** User-defined pieces never merge with their neighbours. */
    private final boolean[] frozen;
    private final LongMinHeap candidates = new LongMinHeap();
    /** How each UNUSED piece formed, to split it back: the library never emits UNUSED pieces. */
    private final Map<String, String[]> unusedPieceHalves = new HashMap<>();
    private int count;

    Segmentation(String text) {
      this.text = text;
      int capacity = text.length();
      start = new int[capacity];
      end = new int[capacity];
      previous = new int[capacity];
      next = new int[capacity];
      frozen = new boolean[capacity];
    }

    void run(List<String> pieces) {
      splitIntoCharacters();
      for (int i = 1; i < count; i++) {
        addCandidate(i - 1, i);
      }
      while (!candidates.isEmpty()) {
        long candidate = candidates.pop();
        int left = (int) candidate;
        if (isStillValid(left, scoreOf(candidate))) {
          merge(left);
        }
      }
      for (int i = count == 0 ? -1 : 0; i >= 0; i = next[i]) {
        splitUnused(text.substring(start[i], end[i]), pieces);
      }
    }

    private void splitIntoCharacters() {
      int position = 0;
      while (position < text.length()) {
        int length = userDefinedLength(position);
        frozen[count] = length > 0;
        if (length == 0) {
          length = Character.charCount(text.codePointAt(position));
        }
        start[count] = position;
        end[count] = position + length;
        previous[count] = count - 1;
        next[count] = count + 1;
        position += length;
        count++;
      }
      if (count > 0) {
        next[count - 1] = -1;
      }
    }

    private int userDefinedLength(int position) {
      List<String> pieces = userDefinedByFirstChar.get(text.charAt(position));
      if (pieces != null) {
        for (String piece : pieces) {
          if (text.startsWith(piece, position)) {
            return piece.length();
          }
        }
      }
      return 0;
    }

    private void addCandidate(int left, int right) {
      if (left < 0 || right < 0 || frozen[left] || frozen[right]) {
        return;
      }
      int id = vocabulary.mergeableId(text, start[left], end[right]);
      if (id < 0) {
        return;
      }
      candidates.push(priority(vocabulary.score(id), left));
      if (vocabulary.type(id) == PieceType.UNUSED) {
        unusedPieceHalves.put(text.substring(start[left], end[right]), new String[] {
            text.substring(start[left], end[left]), text.substring(start[right], end[right])});
      }
    }

    /**
     * The library stores each candidate's two symbols and drops it once either has changed. A
     * candidate here holds only its score and left symbol; it is valid when that symbol and its
     * current right neighbour form a piece of that score. That decides the same merges: every
     * adjacent pair that forms a piece was queued with exactly this (score, left) key when it
     * came to be, so an equal key can only stand for the same merge.
     */
    private boolean isStillValid(int left, float score) {
      int right = next[left];
      if (start[left] == end[left] || right < 0 || frozen[right]) {
        return false;
      }
      int id = vocabulary.mergeableId(text, start[left], end[right]);
      return id >= 0 && vocabulary.score(id) == score;
    }

    private void merge(int left) {
      int right = next[left];
      end[left] = end[right];
      start[right] = end[right];
      next[left] = next[right];
      if (next[right] >= 0) {
        previous[next[right]] = left;
      }
      addCandidate(previous[left], left);
      addCandidate(left, next[left]);
    }

    private void splitUnused(String piece, List<String> out) {
      int id = vocabulary.idOf(piece);
      String[] halves = unusedPieceHalves.get(piece);
      if (vocabulary.type(id) != PieceType.UNUSED || halves == null) {
        out.add(piece);
        return;
      }
      splitUnused(halves[0], out);
      splitUnused(halves[1], out);
    }
  }

  /**
   * Packs a candidate into one long that sorts first for the highest score, then the leftmost
   * symbol: the score's bits, made order-preserving and inverted, above the symbol index.
   */
  private static long priority(float score, int left) {
    return (long) ~sortableBits(score) << 32 | left;
  }

  private static float scoreOf(long priority) {
    int sortable = ~(int) (priority >> 32);
    int bits = sortable >= 0 ? sortable : sortable ^ 0x7FFFFFFF;
    return Float.intBitsToFloat(bits);
  }

  /** Float bits as an int whose signed order is the float's order. */
  private static int sortableBits(float value) {
    int bits = Float.floatToIntBits(value);
    return bits >= 0 ? bits : bits ^ 0x7FFFFFFF;
  }
}
