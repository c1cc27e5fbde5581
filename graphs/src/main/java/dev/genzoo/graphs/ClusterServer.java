package dev.genzoo.graphs;

import dev.genzoo.graphs.nn.DeviceSpecs;
import java.util.List;
import java.util.function.Consumer;
import org.tensorflow.Graph;
import org.tensorflow.GenzooBridge;
import org.tensorflow.Operand;
import org.tensorflow.Server;
import org.tensorflow.Session;
import org.tensorflow.op.Op;
import org.tensorflow.op.Ops;
import org.tensorflow.op.io.FifoQueue;
import org.tensorflow.proto.ConfigProto;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.family.TType;

/**
 * This process's TensorFlow gRPC server ({@link org.tensorflow.Server}) in a {@link Cluster}, and the end of a run.
 *
 * <p>TensorFlow 2.16's servers cannot stop ("Clean shutdown is not currently implemented"), so a task ends by
 * exiting its process. Parameter servers and workers other than the chief wait on a queue of their own task (a
 * {@code FIFOQueueV2} with a shared name, TF1's way of shutting parameter servers down) until the chief, after its
 * final checkpoint, puts a token in each; then they exit. A task the chief cannot reach at the end keeps waiting and is
 * stopped by hand.
 */
public final class ClusterServer {
  private static final String RELEASE_QUEUE = "genzoo_release";
  private static final List<Class<? extends TType>> TYPES = List.of(TInt32.class);

  private final Cluster cluster;
  private final Server server;

  private ClusterServer(Cluster cluster, Server server) {
    this.cluster = cluster;
    this.server = server;
  }

  /** Starts this task's server; it serves until the process exits. */
  public static ClusterServer start(Cluster cluster) {
    Server s = new Server(cluster.serverDef());
    s.start();
    return new ClusterServer(cluster, s);
  }

  public Cluster cluster() {
    return cluster;
  }

  /** The server, never closed (see the class comment). */
  public Server server() {
    return server;
  }

  /** For tasks other than the chief: blocks until the chief releases this task. */
  public void awaitRelease() {
    String me = "/job:" + cluster.job() + "/task:" + cluster.task();
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g).withDevice(DeviceSpecs.parse(me));
      FifoQueue q = queue(tf);
      Operand<?> take = tf.io.queueDequeue(q, TYPES).components().get(0);
      ConfigProto config = ConfigProto.newBuilder().addDeviceFilters(me).build();
      try (Session s = GenzooBridge.openSession(g, cluster.target(), config)) {
        s.runner().fetch(take).run().close();
      }
    }
  }

  /**
   * For the chief: releases every other task, each within {@code timeoutMs}; a task that does not answer is reported
   * through {@code log} and left running.
   */
  public void releaseOthers(long timeoutMs, Consumer<String> log) {
    for (String job : cluster.jobs().keySet()) {
      for (int t = 0; t < cluster.jobs().get(job).size(); t++) {
        if (job.equals(cluster.job()) && t == cluster.task()) {
          continue;
        }
        String device = "/job:" + job + "/task:" + t;
        try (Graph g = new Graph()) {
          Ops tf = Ops.create(g).withDevice(DeviceSpecs.parse(device));
          FifoQueue q = queue(tf);
          Op put = tf.io.queueEnqueue(q, List.<Operand<?>>of(tf.constant(new int[] {1})));
          ConfigProto config = ConfigProto.newBuilder().addDeviceFilters(device)
              .addDeviceFilters("/job:" + cluster.job() + "/task:" + cluster.task())
              .setOperationTimeoutInMs(timeoutMs).build();
          try (Session s = GenzooBridge.openSession(g, cluster.target(), config)) {
            s.runner().addTarget(put).run().close();
          }
        } catch (RuntimeException e) {
          log.accept("could not tell " + job + " task " + t + " (" + cluster.jobs().get(job).get(t)
              + ") that training is over (" + e.getMessage().lines().findFirst().orElse("") + "); stop it by hand");
        }
      }
    }
  }

  private static FifoQueue queue(Ops tf) {
    return tf.io.fifoQueue(TYPES, FifoQueue.sharedName(RELEASE_QUEUE), FifoQueue.capacity(4L),
        FifoQueue.shapes(List.of(org.tensorflow.ndarray.Shape.of(1))));
  }
}
