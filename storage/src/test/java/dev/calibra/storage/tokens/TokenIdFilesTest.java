package dev.calibra.storage.tokens;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.calibra.storage.FileContentException;
import dev.calibra.storage.SharedData;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.apache.parquet.example.data.Group;
import org.apache.parquet.example.data.simple.SimpleGroupFactory;
import org.apache.parquet.hadoop.ParquetWriter;
import org.apache.parquet.hadoop.example.ExampleParquetWriter;
import org.apache.parquet.hadoop.util.HadoopOutputFile;
import org.apache.parquet.schema.MessageType;
import org.apache.parquet.schema.MessageTypeParser;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TokenIdFilesTest {

  private static final Path SEQUENCES = SharedData.model("stories260K").resolve("sequences.json");

  @TempDir
  Path dir;

  private Path write(String name, String content) throws IOException {
    return Files.writeString(dir.resolve(name), content);
  }

  private static void assertRejected(Path file, String part, String... fragments) {
    FileContentException e = assertThrows(FileContentException.class,
        () -> TokenIdFiles.read(file.toString(), part));
    assertTrue(e.getMessage().startsWith(file.toString()), e.getMessage());
    for (String fragment : fragments) {
      assertTrue(e.getMessage().contains(fragment), "'" + fragment + "' in: " + e.getMessage());
    }
  }

  @Test
  void namedSplitsOfTheSharedSequences() throws IOException {
    List<int[]> calibration = TokenIdFiles.read(SEQUENCES.toString(), "calibration");
    List<int[]> evaluation = TokenIdFiles.read(SEQUENCES.toString(), "evaluation");
    assertEquals(64, calibration.size());
    assertEquals(32, evaluation.size());
    calibration.forEach(ids -> assertEquals(256, ids.length));
    evaluation.forEach(ids -> assertEquals(256, ids.length));
    assertArrayEquals(new int[] {1, 330, 186, 465, 40, 499, 16, 100},
        Arrays.copyOf(calibration.get(0), 8));
  }

  @Test
  void namedSplitsNeedAValidSplitName() {
    assertRejected(SEQUENCES, null, "holds named splits [calibration, evaluation]; choose one");
    assertRejected(SEQUENCES, "test", "no split 'test'");
  }

  @Test
  void topLevelArrayOfSequences() throws IOException {
    Path file = write("ids.json", "[[1, 2, 3],\n [4, 5]]");
    List<int[]> sequences = TokenIdFiles.read(file.toString(), null);
    assertArrayEquals(new int[] {1, 2, 3}, sequences.get(0));
    assertArrayEquals(new int[] {4, 5}, sequences.get(1));
    assertRejected(file, "evaluation", "not named splits");
  }

  @Test
  void badIdsInJsonNameTheSequenceAndLine() throws IOException {
    assertRejected(write("neg.json", "{\"eval\": [[1, 2],\n[3, -4]]}"), "eval",
        "split 'eval', sequence 1 (line 2)", "token 1 is -4");
    assertRejected(write("frac.json", "[[1, 2.5]]"), null, "sequence 0", "token 1 is 2.5");
    assertRejected(write("big.json", "[[1, 3000000000]]"), null, "token 1 is 3000000000");
    assertRejected(write("flat.json", "[1, 2]"), null, "sequence 0",
        "expected an array of token ids");
    assertRejected(write("broken.json", "[[1, 2]"), null, "not valid JSON");
  }

  @Test
  void jsonLinesOfArraysAndObjects() throws IOException {
    Path file = write("ids.jsonl", "[1, 2, 3]\n\n{\"text\": \"a b\", \"input_ids\": [4, 5]}\n"
        + "{\"token_ids\": [6]}\n{\"ids\": [7, 8], \"meta\": {\"ids\": [0]}}\n");
    List<int[]> sequences = TokenIdFiles.read(file.toString(), null);
    assertEquals(4, sequences.size());
    assertArrayEquals(new int[] {1, 2, 3}, sequences.get(0));
    assertArrayEquals(new int[] {4, 5}, sequences.get(1));
    assertArrayEquals(new int[] {6}, sequences.get(2));
    assertArrayEquals(new int[] {7, 8}, sequences.get(3));
  }

  @Test
  void jsonLinesWithANamedField() throws IOException {
    Path file = write("ids.jsonl", "{\"tokens\": [9, 8], \"ids\": [1]}\n");
    assertArrayEquals(new int[] {9, 8}, TokenIdFiles.read(file.toString(), "tokens").get(0));
  }

  @Test
  void badJsonLinesNameTheLine() throws IOException {
    assertRejected(write("a.jsonl", "[1]\n[2, \"x\"]\n"), null, "line 2", "token 1 is x");
    assertRejected(write("b.jsonl", "[1]\n\n{\"text\": \"hi\"}\n"), null,
        "line 3: no field input_ids, token_ids, ids");
    assertRejected(write("c.jsonl", "[1, 2\n"), null, "line 1: not valid JSON");
    assertRejected(write("d.jsonl", "[1] [2]\n"), null, "line 1: unexpected [");
    assertRejected(write("e.jsonl", "{\"ids\": 5}\n"), null, "field 'ids' must be an array");
  }

  @Test
  void emptyFileAndUnknownType() throws IOException {
    assertRejected(write("empty.jsonl", "\n"), null, "holds no token sequences");
    assertRejected(write("ids.txt", "1 2 3"), null, "unknown token file type");
  }

  private Path writeParquet(String name, String schemaText, List<Group> rows) throws IOException {
    Path file = dir.resolve(name);
    MessageType schema = MessageTypeParser.parseMessageType(schemaText);
    Configuration conf = new Configuration();
    try (ParquetWriter<Group> writer = ExampleParquetWriter
        .builder(HadoopOutputFile.fromPath(new org.apache.hadoop.fs.Path(file.toUri()), conf))
        .withType(schema)
        .withConf(conf)
        .build()) {
      for (Group row : rows) {
        writer.write(row);
      }
    }
    return file;
  }

  private static final String THREE_LEVEL = "message tokens {\n"
      + "  required binary text (UTF8);\n"
      + "  optional group input_ids (LIST) { repeated group list { required int32 element; } }\n"
      + "  optional group long_ids (LIST) { repeated group list { required int64 element; } }\n"
      + "}";

  private static Group row(MessageType schema, String text, int[] ids, long[] longIds) {
    Group row = new SimpleGroupFactory(schema).newGroup().append("text", text);
    if (ids != null) {
      Group list = row.addGroup("input_ids");
      for (int id : ids) {
        list.addGroup("list").append("element", id);
      }
    }
    Group longList = row.addGroup("long_ids");
    for (long id : longIds) {
      longList.addGroup("list").append("element", id);
    }
    return row;
  }

  @Test
  void parquetListColumns() throws IOException {
    MessageType schema = MessageTypeParser.parseMessageType(THREE_LEVEL);
    Path file = writeParquet("ids.parquet", THREE_LEVEL, List.of(
        row(schema, "a", new int[] {1, 2, 3}, new long[] {10, 11}),
        row(schema, "b", new int[] {}, new long[] {12})));
    // The first list column is the default.
    List<int[]> ints = TokenIdFiles.read(file.toString(), null);
    assertArrayEquals(new int[] {1, 2, 3}, ints.get(0));
    assertArrayEquals(new int[] {}, ints.get(1));
    List<int[]> longs = TokenIdFiles.read(file.toString(), "long_ids");
    assertArrayEquals(new int[] {10, 11}, longs.get(0));
    assertArrayEquals(new int[] {12}, longs.get(1));
  }

  @Test
  void parquetTwoLevelAndRepeatedLayouts() throws IOException {
    String schemaText = "message tokens {\n"
        + "  optional group legacy (LIST) { repeated int32 array; }\n"
        + "  repeated int64 bare;\n"
        + "}";
    MessageType schema = MessageTypeParser.parseMessageType(schemaText);
    Group row = new SimpleGroupFactory(schema).newGroup();
    row.addGroup("legacy").append("array", 5).append("array", 6);
    row.append("bare", 7L).append("bare", 8L).append("bare", 9L);
    Path file = writeParquet("legacy.parquet", schemaText, List.of(row));
    assertArrayEquals(new int[] {5, 6}, TokenIdFiles.read(file.toString(), "legacy").get(0));
    assertArrayEquals(new int[] {7, 8, 9}, TokenIdFiles.read(file.toString(), "bare").get(0));
  }

  @Test
  void badParquetColumnsNameFileColumnAndRow() throws IOException {
    MessageType schema = MessageTypeParser.parseMessageType(THREE_LEVEL);
    Path file = writeParquet("nulls.parquet", THREE_LEVEL, List.of(
        row(schema, "a", new int[] {1}, new long[] {-1}),
        row(schema, "b", null, new long[] {3000000000L})));
    assertRejected(file, "text", "column 'text' is required binary text", "expected a list");
    assertRejected(file, "nope", "no column 'nope' (columns: [text, input_ids, long_ids])");
    assertRejected(file, null, "row 1: column 'input_ids' is null");
    assertRejected(file, "long_ids", "row 0: token 0 of column 'long_ids' is -1");
  }
}
