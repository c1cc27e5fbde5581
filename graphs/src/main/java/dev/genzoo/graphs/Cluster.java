package dev.genzoo.graphs;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.tensorflow.proto.ClusterDef;
import org.tensorflow.proto.JobDef;
import org.tensorflow.proto.ServerDef;

/**
 * A TensorFlow cluster and this process's place in it: parameter-server tasks ({@code ps}) hold the variables, worker
 * tasks compute, and worker 0, the chief, runs the training loop, writes checkpoints and sample grids (between the
 * TF1 conventions of Dean et al. 2012, "Large scale distributed deep networks", and TensorFlow's
 * {@code tf.train.ClusterSpec}).
 *
 * @param jobs job name to task addresses ({@code host:port}), task i at index i
 * @param job this process's job
 * @param task this process's task index
 */
public record Cluster(Map<String, List<String>> jobs, String job, int task) {
  public Cluster {
    jobs = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(jobs));
    if (!jobs.containsKey("worker") || jobs.get("worker").isEmpty()) {
      throw new IllegalArgumentException("--cluster needs at least one worker task (worker=HOST:PORT,...)");
    }
    if (!jobs.containsKey("ps") || jobs.get("ps").isEmpty()) {
      throw new IllegalArgumentException("--cluster needs at least one parameter-server task (ps=HOST:PORT,...)");
    }
    for (String k : jobs.keySet()) {
      if (!k.equals("ps") && !k.equals("worker")) {
        throw new IllegalArgumentException("--cluster: unknown job '" + k + "' (jobs are ps and worker)");
      }
    }
    if (!jobs.containsKey(job)) {
      throw new IllegalArgumentException("--job must be ps or worker, got '" + job + "'");
    }
    if (task < 0 || task >= jobs.get(job).size()) {
      throw new IllegalArgumentException("--task " + task + ": job " + job + " has tasks 0.." + (jobs.get(job).size()
          - 1) + " in --cluster");
    }
  }

  /**
   * Parses {@code ps=HOST:PORT,...;worker=HOST:PORT,...}.
   */
  public static Cluster parse(String spec, String job, int task) {
    Map<String, List<String>> jobs = new LinkedHashMap<>();
    for (String part : spec.split(";")) {
      if (part.isBlank()) {
        continue;
      }
      int eq = part.indexOf('=');
      if (eq <= 0) {
        throw new IllegalArgumentException("--cluster '" + spec + "': '" + part + "' is not JOB=HOST:PORT,...");
      }
      String name = part.substring(0, eq).trim();
      List<String> tasks = new ArrayList<>();
      for (String a : part.substring(eq + 1).split(",")) {
        String addr = a.trim();
        if (!addr.matches("[A-Za-z0-9.\\-]+:\\d{1,5}") && !addr.matches("\\[[0-9a-fA-F:]+]:\\d{1,5}")) {
          throw new IllegalArgumentException("--cluster: task address '" + addr + "' of job " + name
              + " is not HOST:PORT");
        }
        tasks.add(addr);
      }
      if (jobs.put(name, tasks) != null) {
        throw new IllegalArgumentException("--cluster: job '" + name + "' is given twice");
      }
    }
    return new Cluster(jobs, job, task);
  }

  public int workers() {
    return jobs.get("worker").size();
  }

  public int psTasks() {
    return jobs.get("ps").size();
  }

  /** Worker 0 runs the training loop and writes checkpoints, sample grids and the bundle. */
  public boolean isChief() {
    return job.equals("worker") && task == 0;
  }

  /** This task's address. */
  public String address() {
    return jobs.get(job).get(task);
  }

  /** The session target of this task's server. */
  public String target() {
    return "grpc://" + address();
  }

  /** The {@code ServerDef} of this task's gRPC server. */
  public ServerDef serverDef() {
    ClusterDef.Builder c = ClusterDef.newBuilder();
    for (Map.Entry<String, List<String>> e : jobs.entrySet()) {
      JobDef.Builder j = JobDef.newBuilder().setName(e.getKey());
      for (int i = 0; i < e.getValue().size(); i++) {
        j.putTasks(i, e.getValue().get(i));
      }
      c.addJob(j);
    }
    return ServerDef.newBuilder().setCluster(c).setJobName(job).setTaskIndex(task).setProtocol("grpc").build();
  }

  /** The same cluster seen from another task. */
  public Cluster as(String otherJob, int otherTask) {
    return new Cluster(jobs, otherJob, otherTask);
  }

  /** The spec string {@link #parse} reads. */
  public String spec() {
    StringBuilder sb = new StringBuilder();
    jobs.forEach((k, v) -> sb.append(sb.length() > 0 ? ";" : "").append(k).append('=').append(String.join(",", v)));
    return sb.toString();
  }
}
