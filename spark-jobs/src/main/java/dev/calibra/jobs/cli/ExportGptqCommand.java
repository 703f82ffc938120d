package dev.calibra.jobs.cli;

import dev.calibra.storage.FileLocation;
import dev.calibra.storage.artifact.ArtifactReader;
import dev.calibra.storage.gptq.GptqExporter;
import java.io.IOException;
import java.io.PrintStream;
import java.util.Locale;
import org.apache.hadoop.conf.Configuration;

/** Writes an artifact's model as a GPTQ checkpoint directory. */
final class ExportGptqCommand {

  private final ExportGptqOptions options;
  private final PrintStream out;

  ExportGptqCommand(ExportGptqOptions options, PrintStream out) {
    this.options = options;
    this.out = out;
  }

  void run() throws IOException {
    Configuration conf = new Configuration();
    try (ArtifactReader artifact = ArtifactReader.open(FileLocation.of(options.artifact(), conf))) {
      GptqExporter.Result result = GptqExporter.export(artifact, FileLocation.of(options.out(), conf),
          options.tokenizerDirectory() == null ? null
              : FileLocation.of(options.tokenizerDirectory(), conf),
          options.format(), options.overwrite());
      out.printf(Locale.ROOT, "GPTQ checkpoint (%s, %d bits, group size %d) written to %s: %d "
          + "quantized layers, %d float16 tensors%n", options.format().checkpointFormat(),
          result.bits(), result.groupSize(), result.directory(), result.quantizedTensors(),
          result.floatTensors());
    }
  }
}
