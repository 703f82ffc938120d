package dev.calibra.jobs.spark;

import dev.calibra.jobs.calibrate.WindowProgress;
import dev.calibra.jobs.workdir.JsonFiles;
import dev.calibra.storage.AtomicCommit;
import dev.calibra.storage.FileLocation;
import java.io.IOException;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashSet;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.hadoop.fs.FileStatus;
import org.slf4j.Logger;

/**
 * Logs, on the driver, the progress events the calibrate and end-to-end stages' tasks leave in
 * the work directory: one line per calibrated window, wherever its executor runs. Events already
 * there when it starts (from an earlier run) are not logged again.
 */
final class ProgressWatcher implements AutoCloseable {

  private static final long POLL_MILLIS = 1000;

  private final FileLocation directory;
  private final Logger log;
  private final Set<String> seen = new HashSet<>();
  private final Thread thread;
  private final CountDownLatch stop = new CountDownLatch(1);

  private ProgressWatcher(FileLocation directory, Logger log) {
    this.directory = AtomicCommit.withoutChecksumFiles(directory);
    this.log = log;
    this.thread = new Thread(this::watch, "calibra-progress");
    this.thread.setDaemon(true);
  }

  static ProgressWatcher start(FileLocation directory, Logger log) {
    ProgressWatcher watcher = new ProgressWatcher(directory, log);
    watcher.poll(false);
    watcher.thread.start();
    return watcher;
  }

  private void watch() {
    try {
      while (!stop.await(POLL_MILLIS, TimeUnit.MILLISECONDS)) {
        poll(true);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Reads the events not seen yet, in name order (shard, then window); logs them if asked. */
  private synchronized void poll(boolean logNew) {
    FileStatus[] files;
    try {
      if (!directory.exists()) {
        return;
      }
      files = directory.fileSystem().listStatus(directory.path());
    } catch (IOException e) {
      log.debug("cannot list {}: {}", directory, e.getMessage());
      return;
    }
    Arrays.sort(files, Comparator.comparing(f -> f.getPath().getName()));
    for (FileStatus file : files) {
      String name = file.getPath().getName();
      // A retried task writes the same name again: the time tells the two events apart.
      String key = name + "@" + file.getModificationTime();
      if (name.startsWith(".") || !name.endsWith(".json") || seen.contains(key)) {
        continue;
      }
      seen.add(key);
      if (logNew) {
        try {
          log.info(describe(JsonFiles.read(directory.child(name), WindowProgress.class)));
        } catch (IOException e) {
          log.debug("cannot read progress event {}: {}", name, e.getMessage());
        }
      }
    }
  }

  static String describe(WindowProgress p) {
    if (p.endToEnd()) {
      return String.format(Locale.ROOT, "end-to-end pass, window %d (blocks %d-%d): loss %.4g "
          + "-> %.4g in %.1f s on executor %s (%s)%s", p.window(), p.firstBlock(), p.lastBlock(),
          p.lossStart(), p.lossEnd(), p.seconds(), p.executor(), p.host(), attempt(p));
    }
    return String.format(Locale.ROOT, "shard %d %s %d (blocks %s), %d/%d of the shard: loss "
        + "%.4g -> %.4g in %.1f s on executor %s (%s)%s", p.shard(),
        p.warmUp() ? "warm-up window" : "window", p.window(),
        p.firstBlock() == p.lastBlock() ? Integer.toString(p.firstBlock())
            : p.firstBlock() + "-" + p.lastBlock(),
        p.position(), p.windows(), p.lossStart(), p.lossEnd(), p.seconds(), p.executor(),
        p.host(), attempt(p));
  }

  private static String attempt(WindowProgress p) {
    return p.attempt() > 0 ? ", attempt " + (p.attempt() + 1) : "";
  }

  /** Logs what arrived since the last poll and stops. */
  @Override
  public void close() {
    stop.countDown();
    try {
      thread.join();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    poll(true);
  }
}
