package dev.calibra.storage.tokens;

import dev.calibra.storage.FileContentException;
import dev.calibra.storage.FileLocation;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.apache.hadoop.conf.Configuration;
import org.apache.parquet.example.data.Group;
import org.apache.parquet.hadoop.ParquetFileReader;
import org.apache.parquet.hadoop.ParquetReader;
import org.apache.parquet.hadoop.api.ReadSupport;
import org.apache.parquet.hadoop.example.GroupReadSupport;
import org.apache.parquet.hadoop.util.HadoopInputFile;
import org.apache.parquet.schema.GroupType;
import org.apache.parquet.schema.LogicalTypeAnnotation;
import org.apache.parquet.schema.MessageType;
import org.apache.parquet.schema.PrimitiveType.PrimitiveTypeName;
import org.apache.parquet.schema.Type;

/**
 * A Parquet token file: one row per sequence, the ids in a column of list&lt;int32&gt; or
 * list&lt;int64&gt; (what pyarrow, Spark and the datasets library write). Only that column is read.
 */
final class ParquetTokenIds {

  private ParquetTokenIds() {
  }

  /**
   * How a list column is laid out. The standard three-level form is
   * {@code optional group ids (LIST) { repeated group list { optional int32 element; } }};
   * older writers use two levels ({@code repeated int32 array} inside the LIST group) or a bare
   * {@code repeated int32 ids} field.
   */
  private enum ListLayout { THREE_LEVEL, TWO_LEVEL, REPEATED_FIELD }

  private record ListColumn(String name, ListLayout layout, boolean int64) {

    /** The ids of one row; {@code where} names the file and row for messages. */
    int[] read(Group row, String where) throws FileContentException {
      if (layout == ListLayout.REPEATED_FIELD) {
        return values(row, row.getType().getFieldIndex(name), row.getFieldRepetitionCount(name),
            where);
      }
      if (row.getFieldRepetitionCount(name) == 0) {
        throw new FileContentException(where + ": column '" + name
            + "' is null, expected a list of token ids");
      }
      Group list = row.getGroup(name, 0);
      int count = list.getFieldRepetitionCount(0);
      if (layout == ListLayout.TWO_LEVEL) {
        return values(list, 0, count, where);
      }
      int[] ids = new int[count];
      for (int i = 0; i < count; i++) {
        Group element = list.getGroup(0, i);
        if (element.getFieldRepetitionCount(0) == 0) {
          throw new FileContentException(where + ": token " + i + " of column '" + name
              + "' is null, expected a token id");
        }
        ids[i] = id(element, 0, 0, i, where);
      }
      return ids;
    }

    private int[] values(Group group, int field, int count, String where)
        throws FileContentException {
      int[] ids = new int[count];
      for (int i = 0; i < count; i++) {
        ids[i] = id(group, field, i, i, where);
      }
      return ids;
    }

    private int id(Group group, int field, int index, int position, String where)
        throws FileContentException {
      long value = int64 ? group.getLong(field, index) : group.getInteger(field, index);
      if (value < 0 || value > Integer.MAX_VALUE) {
        throw new FileContentException(where + ": token " + position + " of column '" + name
            + "' is " + value + ", expected a non-negative 32-bit integer id");
      }
      return (int) value;
    }
  }

  /** @param column the list column to read, or null for the first list-of-integers column */
  static List<int[]> read(FileLocation file, String column) throws IOException {
    Configuration conf = file.fileSystem().getConf();
    MessageType schema;
    try (ParquetFileReader footer =
        ParquetFileReader.open(HadoopInputFile.fromPath(file.path(), conf))) {
      schema = footer.getFileMetaData().getSchema();
    }
    ListColumn listColumn = findColumn(schema, column, file);
    // Project onto the one column so the other columns are never decoded.
    MessageType projection = new MessageType(schema.getName(), schema.getType(listColumn.name()));
    List<int[]> sequences = new ArrayList<>();
    try (ParquetReader<Group> reader = ParquetReader.builder(new GroupReadSupport(), file.path())
        .withConf(conf)
        .set(ReadSupport.PARQUET_READ_SCHEMA, projection.toString())
        .build()) {
      for (Group row = reader.read(); row != null; row = reader.read()) {
        sequences.add(listColumn.read(row, file + ": row " + sequences.size()));
      }
    }
    return sequences;
  }

  private static ListColumn findColumn(MessageType schema, String column, FileLocation file)
      throws FileContentException {
    if (column != null) {
      if (!schema.containsField(column)) {
        throw new FileContentException(file + ": no column '" + column + "' (columns: "
            + columnNames(schema) + ")");
      }
      return asIdList(schema.getType(column)).orElseThrow(() -> new FileContentException(file
          + ": column '" + column + "' is " + schema.getType(column).toString().trim()
          + ", expected a list of int32 or int64"));
    }
    for (Type field : schema.getFields()) {
      Optional<ListColumn> list = asIdList(field);
      if (list.isPresent()) {
        return list.get();
      }
    }
    throw new FileContentException(file + ": no column holds a list of int32 or int64 token ids "
        + "(columns: " + columnNames(schema) + ")");
  }

  private static Optional<ListColumn> asIdList(Type field) {
    if (field.isPrimitive()) {
      return field.isRepetition(Type.Repetition.REPEATED)
          ? integerColumn(field, field.getName(), ListLayout.REPEATED_FIELD) : Optional.empty();
    }
    GroupType group = field.asGroupType();
    if (!(group.getLogicalTypeAnnotation() instanceof LogicalTypeAnnotation.ListLogicalTypeAnnotation)
        || group.getFieldCount() != 1 || !group.getType(0).isRepetition(Type.Repetition.REPEATED)) {
      return Optional.empty();
    }
    Type repeated = group.getType(0);
    if (repeated.isPrimitive()) {
      return integerColumn(repeated, field.getName(), ListLayout.TWO_LEVEL);
    }
    GroupType element = repeated.asGroupType();
    return element.getFieldCount() == 1
        ? integerColumn(element.getType(0), field.getName(), ListLayout.THREE_LEVEL)
        : Optional.empty();
  }

  private static Optional<ListColumn> integerColumn(Type values, String name, ListLayout layout) {
    if (!values.isPrimitive()) {
      return Optional.empty();
    }
    PrimitiveTypeName type = values.asPrimitiveType().getPrimitiveTypeName();
    return type == PrimitiveTypeName.INT32 || type == PrimitiveTypeName.INT64
        ? Optional.of(new ListColumn(name, layout, type == PrimitiveTypeName.INT64))
        : Optional.empty();
  }

  private static List<String> columnNames(MessageType schema) {
    return schema.getFields().stream().map(Type::getName).toList();
  }
}
