package dev.calibra.tokenizers;

import java.util.ArrayList;
import java.util.List;

/**
 * What a SentencePiece model file ({@code tokenizer.model}, a serialized ModelProto) holds, as
 * far as encoding and decoding need it. Fields absent from the file take the defaults that
 * sentencepiece_model.proto declares.
 */
record SentencePieceModel(List<Piece> pieces, TrainerSpec trainer, NormalizerSpec normalizer) {

  /** The kinds of vocabulary entry; the proto's enum numbers are the ordinal plus one. */
  enum PieceType {
    NORMAL, UNKNOWN, CONTROL, USER_DEFINED, UNUSED, BYTE
  }

  /** The segmentation algorithms a model can be trained with; proto numbers are ordinal plus one. */
  enum ModelType {
    UNIGRAM, BPE, WORD, CHAR
  }

  record Piece(String text, float score, PieceType type) {}

  record TrainerSpec(
      ModelType modelType,
      boolean byteFallback,
      boolean treatWhitespaceAsSuffix,
      String bosPiece,
      String eosPiece,
      String unknownSurface) {}

  /**
   * @param precompiledCharsmapSize size of the compiled normalization rules; 0 for "identity"
   */
  record NormalizerSpec(
      String name,
      int precompiledCharsmapSize,
      boolean addDummyPrefix,
      boolean removeExtraWhitespaces,
      boolean escapeWhitespaces) {}

  static SentencePieceModel parse(byte[] content, String location) {
    ProtobufReader reader = new ProtobufReader(content, location);
    List<Piece> pieces = new ArrayList<>();
    // An empty message reads as all defaults, which is what a file without these fields means.
    TrainerSpec trainer = readTrainerSpec(new ProtobufReader(new byte[0], location));
    NormalizerSpec normalizer = readNormalizerSpec(new ProtobufReader(new byte[0], location));
    while (reader.hasMore()) {
      int tag = reader.readTag();
      switch (ProtobufReader.fieldNumber(tag)) {
        case 1 -> {
          reader.expect(tag, ProtobufReader.LENGTH_DELIMITED);
          pieces.add(readPiece(reader.readMessage()));
        }
        case 2 -> {
          reader.expect(tag, ProtobufReader.LENGTH_DELIMITED);
          trainer = readTrainerSpec(reader.readMessage());
        }
        case 3 -> {
          reader.expect(tag, ProtobufReader.LENGTH_DELIMITED);
          normalizer = readNormalizerSpec(reader.readMessage());
        }
        default -> reader.skip(tag);
      }
    }
    if (pieces.isEmpty()) {
      throw new TokenizerException(location + ": not a valid SentencePiece model file (no pieces)");
    }
    return new SentencePieceModel(List.copyOf(pieces), trainer, normalizer);
  }

  private static Piece readPiece(ProtobufReader reader) {
    String text = "";
    float score = 0;
    PieceType type = PieceType.NORMAL;
    while (reader.hasMore()) {
      int tag = reader.readTag();
      switch (ProtobufReader.fieldNumber(tag)) {
        case 1 -> {
          reader.expect(tag, ProtobufReader.LENGTH_DELIMITED);
          text = reader.readString();
        }
        case 2 -> {
          reader.expect(tag, ProtobufReader.FIXED32);
          score = reader.readFloat();
        }
        case 3 -> {
          reader.expect(tag, ProtobufReader.VARINT);
          type = enumValue(PieceType.values(), reader.readInt32(), "piece type", reader);
        }
        default -> reader.skip(tag);
      }
    }
    return new Piece(text, score, type);
  }

  private static TrainerSpec readTrainerSpec(ProtobufReader reader) {
    ModelType modelType = ModelType.UNIGRAM;
    boolean byteFallback = false;
    boolean treatWhitespaceAsSuffix = false;
    String bosPiece = "<s>";
    String eosPiece = "</s>";
    String unknownSurface = " \u2047 ";
    while (reader.hasMore()) {
      int tag = reader.readTag();
      switch (ProtobufReader.fieldNumber(tag)) {
        case 3 -> {
          reader.expect(tag, ProtobufReader.VARINT);
          modelType = enumValue(ModelType.values(), reader.readInt32(), "model type", reader);
        }
        case 24 -> {
          reader.expect(tag, ProtobufReader.VARINT);
          treatWhitespaceAsSuffix = reader.readBool();
        }
        case 35 -> {
          reader.expect(tag, ProtobufReader.VARINT);
          byteFallback = reader.readBool();
        }
        case 44 -> {
          reader.expect(tag, ProtobufReader.LENGTH_DELIMITED);
          unknownSurface = reader.readString();
        }
        case 46 -> {
          reader.expect(tag, ProtobufReader.LENGTH_DELIMITED);
          bosPiece = reader.readString();
        }
        case 47 -> {
          reader.expect(tag, ProtobufReader.LENGTH_DELIMITED);
          eosPiece = reader.readString();
        }
        default -> reader.skip(tag);
      }
    }
    return new TrainerSpec(modelType, byteFallback, treatWhitespaceAsSuffix, bosPiece, eosPiece,
        unknownSurface);
  }

  private static NormalizerSpec readNormalizerSpec(ProtobufReader reader) {
    String name = "";
    int precompiledCharsmapSize = 0;
    boolean addDummyPrefix = true;
    boolean removeExtraWhitespaces = true;
    boolean escapeWhitespaces = true;
    while (reader.hasMore()) {
      int tag = reader.readTag();
      switch (ProtobufReader.fieldNumber(tag)) {
        case 1 -> {
          reader.expect(tag, ProtobufReader.LENGTH_DELIMITED);
          name = reader.readString();
        }
        case 2 -> {
          reader.expect(tag, ProtobufReader.LENGTH_DELIMITED);
          precompiledCharsmapSize = reader.readBytes().length;
        }
        case 3 -> {
          reader.expect(tag, ProtobufReader.VARINT);
          addDummyPrefix = reader.readBool();
        }
        case 4 -> {
          reader.expect(tag, ProtobufReader.VARINT);
          removeExtraWhitespaces = reader.readBool();
        }
        case 5 -> {
          reader.expect(tag, ProtobufReader.VARINT);
          escapeWhitespaces = reader.readBool();
        }
        default -> reader.skip(tag);
      }
    }
    return new NormalizerSpec(name, precompiledCharsmapSize, addDummyPrefix,
        removeExtraWhitespaces, escapeWhitespaces);
  }

  private static <E extends Enum<E>> E enumValue(E[] values, int number, String what,
      ProtobufReader reader) {
    if (number < 1 || number > values.length) {
      throw reader.corrupt("unknown " + what + " " + number);
    }
    return values[number - 1];
  }
}
