package dev.calibra.tokenizers;

import dev.calibra.tokenizers.AddedTokens.AddedToken;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Finds added tokens in text the way the library's Aho-Corasick search does: the leftmost
 * match, the longest at that position, then on after it. A token's options may widen a match
 * over the spaces beside it (lstrip, rstrip) or reject a match inside a word (single_word).
 */
final class AddedTokenMatcher {

  /**
   * A stretch of text to encode, or an added token when {@code addedTokenId} is not -1.
   *
   * @param atInputStart whether it begins where the encoded text begins
   */
  record Segment(String text, int addedTokenId, boolean atInputStart) {
    boolean isAddedToken() {
      return addedTokenId >= 0;
    }
  }

  private record Candidate(String text, AddedToken token) {}

  // Rust's regex crate, which the library uses for these checks, is Unicode-aware.
  private static final Pattern SPACE = Pattern.compile("\\s", Pattern.UNICODE_CHARACTER_CLASS);
  private static final Pattern WORD = Pattern.compile("\\w", Pattern.UNICODE_CHARACTER_CLASS);

  /** Candidates by their first char, longest first. */
  private final Map<Character, List<Candidate>> candidatesByFirstChar = new HashMap<>();
  private final BitSet firstChars = new BitSet(Character.MAX_VALUE + 1);

  /** @param tokensByText each token under the text to look for */
  AddedTokenMatcher(Map<String, AddedToken> tokensByText) {
    tokensByText.forEach((text, token) -> {
      candidatesByFirstChar.computeIfAbsent(text.charAt(0), c -> new ArrayList<>())
          .add(new Candidate(text, token));
      firstChars.set(text.charAt(0));
    });
    candidatesByFirstChar.values().forEach(list ->
        list.sort(Comparator.comparingInt((Candidate c) -> c.text().length()).reversed()));
  }

  /** The text cut into added tokens and the stretches between them; empty ones left out. */
  List<Segment> split(String text, boolean atInputStart) {
    List<Segment> segments = new ArrayList<>();
    int emitted = 0;
    int searchFrom = 0;
    while (true) {
      int start = findMatch(text, searchFrom);
      if (start < 0) {
        break;
      }
      Candidate match = longestAt(text, start);
      int stop = start + match.text().length();
      searchFrom = stop;
      AddedToken token = match.token();
      if (token.singleWord() && (isWordBefore(text, start) || isWordAfter(text, stop))) {
        continue;
      }
      if (token.stripLeft()) {
        while (start > emitted && isSpace(text.codePointBefore(start))) {
          start -= Character.charCount(text.codePointBefore(start));
        }
      }
      if (token.stripRight()) {
        while (stop < text.length() && isSpace(text.codePointAt(stop))) {
          stop += Character.charCount(text.codePointAt(stop));
        }
      }
      if (start > emitted) {
        segments.add(new Segment(text.substring(emitted, start), -1, atInputStart && emitted == 0));
      }
      segments.add(new Segment(text.substring(start, stop), token.id(), atInputStart && start == 0));
      emitted = stop;
    }
    if (emitted < text.length()) {
      segments.add(new Segment(text.substring(emitted), -1, atInputStart && emitted == 0));
    }
    return segments;
  }

  /** The first position at or after {@code from} where some token starts, or -1. */
  private int findMatch(String text, int from) {
    for (int i = from; i < text.length(); i++) {
      if (firstChars.get(text.charAt(i)) && longestAt(text, i) != null) {
        return i;
      }
    }
    return -1;
  }

  private Candidate longestAt(String text, int position) {
    for (Candidate candidate : candidatesByFirstChar.getOrDefault(text.charAt(position),
        List.of())) {
      if (text.startsWith(candidate.text(), position)) {
        return candidate;
      }
    }
    return null;
  }

  private static boolean isWordBefore(String text, int position) {
    return position > 0 && isWord(text.codePointBefore(position));
  }

  private static boolean isWordAfter(String text, int position) {
    return position < text.length() && isWord(text.codePointAt(position));
  }

  private static boolean isWord(int codePoint) {
    return WORD.matcher(Character.toString(codePoint)).matches();
  }

  private static boolean isSpace(int codePoint) {
    return SPACE.matcher(Character.toString(codePoint)).matches();
  }
}
