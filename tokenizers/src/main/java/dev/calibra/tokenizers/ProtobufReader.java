package dev.calibra.tokenizers;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Reads the protobuf wire format by hand: the few field kinds a SentencePiece model file uses,
 * so that the module needs no protobuf library. Anything malformed or cut short raises a
 * {@link TokenizerException} that names the file and the byte offset.
 */
final class ProtobufReader {

  static final int VARINT = 0;
  static final int FIXED64 = 1;
  static final int LENGTH_DELIMITED = 2;
  static final int FIXED32 = 5;

  private final byte[] buffer;
  private final int end;
  private final String location;
  private int position;

  ProtobufReader(byte[] buffer, String location) {
    this(buffer, 0, buffer.length, location);
  }

  private ProtobufReader(byte[] buffer, int start, int end, String location) {
    this.buffer = buffer;
    this.position = start;
    this.end = end;
    this.location = location;
  }

  boolean hasMore() {
    return position < end;
  }

  /** Reads the next field's key; {@link #fieldNumber} and {@link #wireType} take it apart. */
  int readTag() {
    long tag = readVarint();
    if (tag >>> 3 == 0 || tag > Integer.MAX_VALUE) {
      throw corrupt("invalid field key " + tag);
    }
    return (int) tag;
  }

  static int fieldNumber(int tag) {
    return tag >>> 3;
  }

  static int wireType(int tag) {
    return tag & 7;
  }

  long readVarint() {
    long value = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (position >= end) {
        throw corrupt("truncated: a number runs past the end");
      }
      byte b = buffer[position++];
      value |= (long) (b & 0x7F) << shift;
      if (b >= 0) {
        return value;
      }
    }
    throw corrupt("a number longer than 10 bytes");
  }

  /** Reads an int32 or enum field: negative ones are stored sign-extended to 64 bits. */
  int readInt32() {
    return (int) readVarint();
  }

  boolean readBool() {
    return readVarint() != 0;
  }

  float readFloat() {
    require(4);
    int bits = (buffer[position] & 0xFF)
        | (buffer[position + 1] & 0xFF) << 8
        | (buffer[position + 2] & 0xFF) << 16
        | (buffer[position + 3] & 0xFF) << 24;
    position += 4;
    return Float.intBitsToFloat(bits);
  }

  String readString() {
    return new String(readBytes(), StandardCharsets.UTF_8);
  }

  byte[] readBytes() {
    int length = readLength();
    byte[] value = Arrays.copyOfRange(buffer, position, position + length);
    position += length;
    return value;
  }

  /** Reads an embedded message; the returned reader sees only its bytes. */
  ProtobufReader readMessage() {
    int length = readLength();
    ProtobufReader message = new ProtobufReader(buffer, position, position + length, location);
    position += length;
    return message;
  }

  /** Skips a field this reader's caller does not use. */
  void skip(int tag) {
    switch (wireType(tag)) {
      case VARINT -> readVarint();
      case FIXED64 -> advance(8);
      case LENGTH_DELIMITED -> advance(readLength());
      case FIXED32 -> advance(4);
      default -> throw corrupt("unsupported wire type " + wireType(tag) + " of field "
          + fieldNumber(tag));
    }
  }

  /** Checks that a known field arrived with the wire type its declaration implies. */
  void expect(int tag, int wireType) {
    if (wireType(tag) != wireType) {
      throw corrupt("field " + fieldNumber(tag) + " has wire type " + wireType(tag)
          + ", expected " + wireType);
    }
  }

  TokenizerException corrupt(String problem) {
    return new TokenizerException(location + ": not a valid SentencePiece model file (" + problem
        + " at byte " + position + ")");
  }

  private int readLength() {
    long length = readVarint();
    if (length < 0 || length > end - position) {
      throw corrupt("truncated: a field of " + length + " bytes runs past the end");
    }
    return (int) length;
  }

  private void advance(int count) {
    require(count);
    position += count;
  }

  private void require(int count) {
    if (end - position < count) {
      throw corrupt("truncated: a field runs past the end");
    }
  }
}
