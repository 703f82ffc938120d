package dev.calibra.storage.artifact;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class BitPackingTest {

  @Test
  void threeBitValuesStraddleWordsAsOneLittleEndianStream() {
    // 32 values of 3 bits fill exactly three 32-bit words; value 10 spans words 0 and 1.
    int[] values = new int[32];
    values[0] = 0b101;
    values[10] = 0b110;
    values[21] = 0b011;
    values[31] = 0b111;
    byte[] packed = BitPacking.pack(values, 3);
    assertEquals(12, packed.length);
    ByteBuffer words = ByteBuffer.wrap(packed).order(ByteOrder.LITTLE_ENDIAN);
    // value 10 starts at bit 30: its low two bits (10b) are bits 30-31 of word 0, its high bit
    // is bit 0 of word 1; value 21 starts at bit 63: bit 31 of word 1, then bits 0-1 of word 2.
    assertEquals(0b101 | (0b10 << 30), words.getInt(0));
    assertEquals(0b1 | (0b1 << 31), words.getInt(4));
    assertEquals(0b01 | (0b111 << 29), words.getInt(8));
  }

  @Test
  void fourBitValuesFillWordsFromTheLowNibble() {
    byte[] packed = BitPacking.pack(new int[] {1, 2, 3, 4, 5, 6, 7, 8, 9}, 4);
    assertEquals(8, packed.length, "nine 4-bit values round up to two words");
    ByteBuffer words = ByteBuffer.wrap(packed).order(ByteOrder.LITTLE_ENDIAN);
    assertEquals(0x87654321, words.getInt(0));
    assertEquals(0x9, words.getInt(4));
  }

  @ParameterizedTest
  @ValueSource(ints = {1, 2, 3, 4, 5, 6, 7, 8, 11, 16})
  void roundTripsEveryWidth(int bits) {
    Random random = new Random(bits);
    int[] values = new int[1001];
    for (int i = 0; i < values.length; i++) {
      values[i] = random.nextInt(1 << bits);
    }
    byte[] packed = BitPacking.pack(values, bits);
    assertEquals((1001L * bits + 31) / 32 * 4, packed.length);
    assertArrayEquals(values, BitPacking.unpack(packed, bits, values.length));
    if (bits <= 8) {
      byte[] asBytes = new byte[values.length];
      for (int i = 0; i < values.length; i++) {
        asBytes[i] = (byte) values[i];
      }
      assertArrayEquals(packed, BitPacking.pack(asBytes, bits));
      assertArrayEquals(asBytes, BitPacking.unpackBytes(packed, bits, values.length));
    }
  }

  @Test
  void refusesValuesWiderThanTheBitWidth() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> BitPacking.pack(new int[] {3, 8}, 3));
    assertEquals("value 8 at index 1 does not fit in 3 bits", e.getMessage());
  }
}
