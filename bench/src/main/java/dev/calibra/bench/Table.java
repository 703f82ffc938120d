package dev.calibra.bench;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A console table: columns as wide as their widest cell, text left-aligned and numbers
 * right-aligned, so that benchmark output lines up however the values vary.
 */
public final class Table {

  private final String[] headers;
  private final List<String[]> rows = new ArrayList<>();

  public Table(String... headers) {
    this.headers = headers.clone();
  }

  /** Adds a row; numbers are written with {@code String.valueOf}, so format them beforehand. */
  public Table row(Object... cells) {
    if (cells.length != headers.length) {
      throw new IllegalArgumentException(
          "expected " + headers.length + " cells, got " + cells.length);
    }
    rows.add(Arrays.stream(cells).map(String::valueOf).toArray(String[]::new));
    return this;
  }

  public void print(PrintStream out) {
    int[] widths = new int[headers.length];
    for (int col = 0; col < headers.length; col++) {
      widths[col] = headers[col].length();
      for (String[] row : rows) {
        widths[col] = Math.max(widths[col], row[col].length());
      }
    }
    out.println(line(headers, widths));
    out.println(line(Arrays.stream(widths).mapToObj("-"::repeat).toArray(String[]::new), widths));
    for (String[] row : rows) {
      out.println(line(row, widths));
    }
  }

  private static String line(String[] cells, int[] widths) {
    StringBuilder text = new StringBuilder();
    for (int col = 0; col < cells.length; col++) {
      if (col > 0) {
        text.append("  ");
      }
      String format = isNumber(cells[col]) ? "%" + widths[col] + "s" : "%-" + widths[col] + "s";
      text.append(String.format(format, cells[col]));
    }
    return text.toString().stripTrailing();
  }

  private static boolean isNumber(String cell) {
    return cell.matches("[-+]?[0-9][0-9.,]*[%x]?");
  }
}
