package dev.calibra.jobs.workdir;

import dev.calibra.storage.FileLocation;
import java.io.IOException;
import java.util.Locale;
import org.apache.hadoop.conf.Configuration;

/**
 * Where a job keeps everything between its stages and across restarts, on any Hadoop file
 * system; spark-jobs/README.md ("Work directory") lists the files. Every file appears under its
 * final name only once complete, so a file's presence means that step is done.
 */
public final class WorkDirectory {

  private final FileLocation root;

  private WorkDirectory(FileLocation root) {
    this.root = root;
  }

  /** @param location a local path, file:// or hdfs:// URI */
  public static WorkDirectory at(String location) throws IOException {
    return new WorkDirectory(FileLocation.of(location, new Configuration()));
  }

  public FileLocation root() {
    return root;
  }

  /** The job's identity (model, data, recipe, schedule); a different job refuses the directory. */
  public FileLocation jobFile() {
    return root.child("job.json");
  }

  /** The calibration plan the job runs, kept so that a restarted job runs the same shards. */
  public FileLocation planFile() {
    return root.child("plan.json");
  }

  public FileLocation calibrationSamples() {
    return root.child("data").child("calibration.jsonl");
  }

  public FileLocation evaluationWindows() {
    return root.child("data").child("evaluation.jsonl");
  }

  /** The float model's activations at the input of {@code block}, from the capture stage. */
  public FileLocation capture(int block) {
    return root.child("capture").child(String.format(Locale.ROOT, "block-%05d.arrow", block));
  }

  /** Sequential schedule: both streams at shard {@code shard}'s first block, from shard − 1. */
  public FileLocation handOffStreams(int shard) {
    return root.child("handoff").child(name("shard", shard) + "-streams.arrow");
  }

  /** Sequential schedule: what shard − 1 learned of the blocks shard {@code shard} goes on with. */
  public FileLocation handOffState(int shard) {
    return root.child("handoff").child(name("shard", shard) + "-carried.arrow");
  }

  /** What a shard did (windows, losses, times, where it ran), written just before its part. */
  public FileLocation shardReport(int shard) {
    return root.child("reports").child(name("shard", shard) + ".json");
  }

  /** A shard's blocks in the artifact format: its presence marks the shard finished. */
  public FileLocation shardPart(int shard) {
    return parts().child(name("shard", shard) + ".arrow");
  }

  /**
   * Every block after the end-to-end pass, in the artifact format: its presence marks the pass
   * done, and the pack stage merges it instead of the shards' parts.
   */
  public FileLocation endToEndPart() {
    return parts().child("end-to-end.arrow");
  }

  /** What the end-to-end pass did, written just before its part. */
  public FileLocation endToEndReport() {
    return root.child("reports").child("end-to-end.json");
  }

  /** The tensors outside blocks (embedding, final norm, output projection), from the pack stage. */
  public FileLocation outsideBlocksPart() {
    return parts().child("outside-blocks.arrow");
  }

  public FileLocation parts() {
    return root.child("parts");
  }

  /** Progress events that tasks leave and the driver logs: one file per calibrated window. */
  public FileLocation progress() {
    return root.child("progress");
  }

  public FileLocation windowProgress(int shard, int window) {
    return progress().child(name("shard", shard) + "-" + name("window", window) + ".json");
  }

  /** The end-to-end pass's progress event: it runs as one window, {@code window}. */
  public FileLocation endToEndProgress(int window) {
    return progress().child("end-to-end-" + name("window", window) + ".json");
  }

  /** Written after the pack stage: which artifact this directory's parts were merged into. */
  public FileLocation packedFile() {
    return root.child("packed.json");
  }

  private static String name(String what, int index) {
    return String.format(Locale.ROOT, "%s-%05d", what, index);
  }

  @Override
  public String toString() {
    return root.toString();
  }
}
