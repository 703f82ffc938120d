package dev.calibra.tokenizers;

import dev.calibra.tokenizers.SentencePieceModel.Piece;
import dev.calibra.tokenizers.SentencePieceModel.PieceType;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A SentencePiece model's pieces, looked up the way the library does: NORMAL, USER_DEFINED and
 * UNUSED pieces can be produced by merging, the other kinds (unknown, control, byte) are
 * reserved and only found by exact lookup, which checks them first.
 */
final class SentencePieceVocabulary {

  private final List<Piece> pieces;
  private final Map<String, Integer> mergeableIds = new HashMap<>();
  private final Map<String, Integer> reservedIds = new HashMap<>();
  private final List<String> userDefinedPieces = new ArrayList<>();
  private final int[] byteIds = new int[256];
  private final int unknownId;
  private final TextRangeIndex mergeableIndex;

  SentencePieceVocabulary(SentencePieceModel model, String location) {
    this.pieces = model.pieces();
    Arrays.fill(byteIds, -1);
    int unknown = -1;
    for (int id = 0; id < pieces.size(); id++) {
      Piece piece = pieces.get(id);
      if (piece.text().isEmpty()) {
        throw new TokenizerException(location + ": piece " + id + " is empty");
      }
      Map<String, Integer> index = isMergeable(piece.type()) ? mergeableIds : reservedIds;
      if (index.putIfAbsent(piece.text(), id) != null) {
        throw new TokenizerException(location + ": piece '" + piece.text() + "' is defined twice");
      }
      switch (piece.type()) {
        case USER_DEFINED -> userDefinedPieces.add(piece.text());
        case UNKNOWN -> {
          if (unknown >= 0) {
            throw new TokenizerException(location + ": more than one UNKNOWN piece");
          }
          unknown = id;
        }
        case BYTE -> byteIds[byteValue(piece.text(), location)] = id;
        default -> { }
      }
    }
    if (unknown < 0) {
      throw new TokenizerException(location + ": no UNKNOWN piece (<unk>) is defined");
    }
    this.unknownId = unknown;
    this.mergeableIndex = new TextRangeIndex(mergeableIds);
    if (model.trainer().byteFallback() && Arrays.stream(byteIds).anyMatch(id -> id < 0)) {
      throw new TokenizerException(location + ": byte_fallback is on but not all 256 byte pieces"
          + " <0x00>..<0xFF> are present");
    }
  }

  int size() {
    return pieces.size();
  }

  /** The id of {@code text.substring(start, end)} if merging may produce it, or -1. */
  int mergeableId(String text, int start, int end) {
    return mergeableIndex.get(text, start, end);
  }

  /** The library's PieceToId: reserved pieces first, then the others, else the unknown id. */
  int idOf(String text) {
    Integer id = reservedIds.get(text);
    if (id == null) {
      id = mergeableIds.get(text);
    }
    return id == null ? unknownId : id;
  }

  int unknownId() {
    return unknownId;
  }

  String text(int id) {
    return pieces.get(id).text();
  }

  float score(int id) {
    return pieces.get(id).score();
  }

  PieceType type(int id) {
    return pieces.get(id).type();
  }

  /** The id of the byte piece {@code <0xXX>} for a byte value 0..255. */
  int byteId(int value) {
    return byteIds[value];
  }

  /** The byte a BYTE piece stands for. */
  int byteOf(int id) {
    return Integer.parseInt(text(id).substring(3, 5), 16);
  }

  List<String> userDefinedPieces() {
    return userDefinedPieces;
  }

  private static boolean isMergeable(PieceType type) {
    return type == PieceType.NORMAL || type == PieceType.USER_DEFINED || type == PieceType.UNUSED;
  }

  private static int byteValue(String text, String location) {
    if (text.length() == 6 && text.startsWith("<0x") && text.endsWith(">")) {
      int high = Character.digit(text.charAt(3), 16);
      int low = Character.digit(text.charAt(4), 16);
      if (high >= 0 && low >= 0) {
        return high * 16 + low;
      }
    }
    throw new TokenizerException(location + ": byte piece '" + text + "' is not of the form <0xXX>");
  }
}
