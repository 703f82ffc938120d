package dev.calibra.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A real Spark standalone cluster on the loopback interface: a master and workers of one core
 * each, every one its own JVM started with the {@code spark-class} of the pyspark that
 * bin/python-env installs into .venv; executors are JVMs the workers start. Closing it stops
 * every process it started, executors included.
 */
final class StandaloneCluster implements AutoCloseable {

  private static final Path REPOSITORY = Path.of("..").toAbsolutePath().normalize();
  private static final Path VENV_BIN = REPOSITORY.resolve(".venv").resolve("bin");

  private final Path logs;
  private final Path sparkHome;
  private final int masterPort;
  private final int masterUiPort;
  private final List<Process> daemons = new ArrayList<>();

  private StandaloneCluster(Path logs, Path sparkHome, int masterPort, int masterUiPort) {
    this.logs = logs;
    this.sparkHome = sparkHome;
    this.masterPort = masterPort;
    this.masterUiPort = masterUiPort;
  }

  /** Starts a master and {@code workers} workers and waits until all are registered. */
  static StandaloneCluster start(Path directory, int workers, String workerMemory)
      throws Exception {
    Path sparkHome = sparkHome();
    StandaloneCluster cluster = new StandaloneCluster(directory.resolve("logs"), sparkHome,
        freePort(), freePort());
    Files.createDirectories(cluster.logs);
    try {
      cluster.daemons.add(cluster.launch("master", "spark-class",
          "org.apache.spark.deploy.master.Master", "--host", "127.0.0.1", "--port",
          Integer.toString(cluster.masterPort), "--webui-port",
          Integer.toString(cluster.masterUiPort)));
      for (int w = 0; w < workers; w++) {
        Path workDir = Files.createDirectories(directory.resolve("worker-" + w));
        cluster.daemons.add(cluster.launch("worker-" + w, "spark-class",
            "org.apache.spark.deploy.worker.Worker", "--host", "127.0.0.1", "--webui-port",
            Integer.toString(freePort()), "--cores", "1", "--memory", workerMemory,
            "--work-dir", workDir.toString(), cluster.masterUrl()));
      }
      cluster.awaitWorkers(workers);
      return cluster;
    } catch (Exception e) {
      cluster.close();
      throw e;
    }
  }

  String masterUrl() {
    return "spark://127.0.0.1:" + masterPort;
  }

  /**
   * Starts spark-submit with these arguments against the cluster; its output goes to a log.
   * Closing the cluster stops it if it still runs.
   */
  Process submit(String name, List<String> arguments) throws IOException {
    List<String> command = new ArrayList<>(List.of("--master", masterUrl(), "--deploy-mode",
        "client"));
    command.addAll(arguments);
    Process process = launch(name, "spark-submit", command.toArray(String[]::new));
    daemons.add(process);
    return process;
  }

  /** Whether {@code pid} is a process this cluster started, or one its processes started. */
  boolean owns(long pid) {
    return daemons.stream().flatMap(p -> Stream.concat(Stream.of(p.toHandle()),
        p.toHandle().descendants())).anyMatch(h -> h.pid() == pid);
  }

  /** The last lines of a process's log, for failure messages. */
  String logTail(String name) {
    try {
      List<String> lines = Files.readAllLines(logs.resolve(name + ".log"));
      return String.join("\n", lines.subList(Math.max(0, lines.size() - 60), lines.size()));
    } catch (IOException e) {
      return "(no log: " + e.getMessage() + ")";
    }
  }

  private Process launch(String name, String script, String... arguments) throws IOException {
    List<String> command = new ArrayList<>();
    command.add(VENV_BIN.resolve(script).toString());
    command.addAll(List.of(arguments));
    ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true)
        .redirectOutput(logs.resolve(name + ".log").toFile());
    Map<String, String> env = builder.environment();
    env.put("SPARK_HOME", sparkHome.toString());
    env.put("SPARK_LOCAL_IP", "127.0.0.1");
    env.put("SPARK_LOG_DIR", logs.toString());
    env.put("SPARK_CONF_DIR", Files.createDirectories(logs.resolve("conf")).toString());
    env.put("SPARK_NO_DAEMONIZE", "1");
    return builder.start();
  }

  private void awaitWorkers(int workers) throws Exception {
    HttpClient http = HttpClient.newHttpClient();
    URI status = URI.create("http://127.0.0.1:" + masterUiPort + "/json/");
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
    String last = "no answer";
    while (System.nanoTime() < deadline) {
      for (Process daemon : daemons) {
        if (!daemon.isAlive()) {
          throw new IllegalStateException("a Spark daemon exited with " + daemon.exitValue()
              + ":\n" + logTail("master") + "\n" + logTail("worker-0"));
        }
      }
      try {
        HttpResponse<String> response = http.send(HttpRequest.newBuilder(status)
            .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
        JsonNode json = new ObjectMapper().readTree(response.body());
        if (json.path("aliveworkers").asInt() == workers) {
          return;
        }
        last = response.body();
      } catch (IOException e) {
        last = e.toString();
      }
      Thread.sleep(500);
    }
    throw new IllegalStateException("the workers did not register within 90 s: " + last);
  }

  /**
   * Stops the daemons as Spark's own scripts do (a termination signal, whose shutdown hooks
   * stop the executors), then kills whatever of theirs is left.
   */
  @Override
  public void close() {
    List<ProcessHandle> all = new ArrayList<>();
    for (Process daemon : daemons) {
      all.add(daemon.toHandle());
      daemon.toHandle().descendants().forEach(all::add);
    }
    for (int i = daemons.size() - 1; i >= 0; i--) {
      daemons.get(i).destroy();
    }
    for (ProcessHandle handle : all) {
      try {
        handle.onExit().get(20, TimeUnit.SECONDS);
      } catch (Exception e) {
        handle.destroyForcibly();
      }
    }
  }

  /** The Spark distribution inside the pyspark package of .venv. */
  private static Path sparkHome() throws IOException {
    Path lib = REPOSITORY.resolve(".venv").resolve("lib");
    if (!Files.isExecutable(VENV_BIN.resolve("spark-class")) || !Files.isDirectory(lib)) {
      throw new IllegalStateException("no Spark in " + VENV_BIN + ": bin/test installs pyspark "
          + "there with bin/python-env (requirements-dev.txt); run bin/python-env first");
    }
    try (Stream<Path> pythons = Files.list(lib)) {
      return pythons.map(p -> p.resolve("site-packages").resolve("pyspark"))
          .filter(p -> Files.isDirectory(p.resolve("jars"))).findFirst()
          .orElseThrow(() -> new IllegalStateException("no pyspark with jars/ under " + lib));
    }
  }

  private static int freePort() {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
