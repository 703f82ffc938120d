package dev.calibra.tokenizers;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** Collects the cases a tokenizer gets wrong, so that a failure lists all of them at once. */
final class CaseReport {

  private static final int SHOWN = 10;

  private final String what;
  private final List<String> failures = new ArrayList<>();
  private int checked;

  CaseReport(String what) {
    this.what = what;
  }

  void checkIds(int index, String text, int[] expected, int[] actual) {
    checked++;
    if (!Arrays.equals(expected, actual)) {
      failures.add("case " + index + " " + quote(text) + "\n    expected " + Arrays.toString(expected)
          + "\n    actual   " + Arrays.toString(actual));
    }
  }

  void checkText(int index, String expected, String actual) {
    checked++;
    if (!expected.equals(actual)) {
      failures.add("case " + index + "\n    expected " + quote(expected) + "\n    actual   "
          + quote(actual));
    }
  }

  boolean passed() {
    return failures.isEmpty();
  }

  /** "N/N passed", or the failing cases (the first few in full). */
  String summary() {
    StringBuilder summary = new StringBuilder(what + ": " + (checked - failures.size()) + "/"
        + checked + " cases passed");
    failures.stream().limit(SHOWN).forEach(f -> summary.append("\n  ").append(f));
    if (failures.size() > SHOWN) {
      summary.append("\n  ... and ").append(failures.size() - SHOWN).append(" more");
    }
    return summary.toString();
  }

  private static String quote(String text) {
    String shown = text.length() > 120 ? text.substring(0, 120) + "..." : text;
    return "\"" + shown.replace("\n", "\\n").replace("\t", "\\t").replace("\r", "\\r") + "\"";
  }
}
