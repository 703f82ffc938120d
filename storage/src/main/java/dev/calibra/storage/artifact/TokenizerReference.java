package dev.calibra.storage.artifact;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.calibra.storage.FileContentException;
import dev.calibra.storage.FileLocation;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32C;
import org.apache.hadoop.conf.Configuration;

/**
 * The artifact's reference to its tokenizer: the model directory it came from and, for each
 * tokenizer file there, its size and CRC32C. The files are not copied into the artifact (a
 * tokenizer.json reaches tens of MB); whoever needs them reads them from the source, or from a
 * copy given instead, and the checksums prove it is the same tokenizer.
 */
public final class TokenizerReference {

  /** Files a serving engine or our tokenizer may need, in the order they are listed. */
  public static final List<String> FILE_NAMES = List.of("tokenizer.model", "tokenizer.json",
      "tokenizer_config.json", "special_tokens_map.json", "added_tokens.json",
      "generation_config.json");

  private static final long MAX_BYTES = 512L << 20;

  private TokenizerReference() {}

  /** Describes the tokenizer files present in {@code modelDirectory}. */
  public static ObjectNode describe(FileLocation modelDirectory) throws IOException {
    ObjectNode reference = ArtifactMetadata.emptyObject();
    reference.put("source", modelDirectory.toString());
    ArrayNode files = reference.putArray("files");
    for (String name : FILE_NAMES) {
      FileLocation file = modelDirectory.child(name);
      if (file.exists()) {
        byte[] bytes = file.readAllBytes(MAX_BYTES);
        files.addObject().put("name", name).put("bytes", bytes.length).put("crc32c", crc(bytes));
      }
    }
    return reference;
  }

  /** The model directory the reference points to. */
  public static FileLocation source(ObjectNode reference, Configuration conf) throws IOException {
    JsonNode source = reference.get("source");
    if (source == null || !source.isTextual()) {
      throw new FileContentException("the artifact's " + ArtifactMetadata.TOKENIZER
          + " names no source directory: " + reference);
    }
    return FileLocation.of(source.asText(), conf);
  }

  /** The names of the referenced files. */
  public static List<String> fileNames(ObjectNode reference) {
    List<String> names = new ArrayList<>();
    reference.path("files").forEach(f -> names.add(f.path("name").asText()));
    return names;
  }

  /**
   * Reads a referenced file from {@code directory}, checking it is the one the artifact was
   * made with.
   */
  public static byte[] read(ObjectNode reference, String name, FileLocation directory)
      throws IOException {
    JsonNode described = null;
    for (JsonNode file : reference.path("files")) {
      if (name.equals(file.path("name").asText())) {
        described = file;
      }
    }
    if (described == null) {
      throw new FileContentException("the artifact's tokenizer reference lists no " + name
          + " (it lists " + fileNames(reference) + ")");
    }
    FileLocation file = directory.child(name);
    if (!file.exists()) {
      throw new FileNotFoundException(file + " does not exist; the artifact's tokenizer "
          + "came from " + reference.path("source").asText() + " (give the directory holding it)");
    }
    byte[] bytes = file.readAllBytes(MAX_BYTES);
    long expectedCrc = described.path("crc32c").asLong();
    long expectedBytes = described.path("bytes").asLong();
    if (bytes.length != expectedBytes || crc(bytes) != expectedCrc) {
      throw new FileContentException(file + " is not the tokenizer file the artifact was made with: "
          + bytes.length + " bytes with crc32c " + crc(bytes) + ", expected " + expectedBytes
          + " bytes with crc32c " + expectedCrc);
    }
    return bytes;
  }

  /** Copies every referenced file from {@code sourceDirectory} into {@code targetDirectory}. */
  public static void copyAll(ObjectNode reference, FileLocation sourceDirectory,
      FileLocation targetDirectory) throws IOException {
    for (String name : fileNames(reference)) {
      byte[] bytes = read(reference, name, sourceDirectory);
      FileLocation target = targetDirectory.child(name);
      try (OutputStream out = target.fileSystem().create(target.path(), false)) {
        out.write(bytes);
      }
    }
  }

  private static long crc(byte[] bytes) {
    CRC32C crc = new CRC32C();
    crc.update(bytes, 0, bytes.length);
    return crc.getValue();
  }
}
