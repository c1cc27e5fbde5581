package dev.genzoo.graphs.ebm;

import dev.genzoo.data.Seeds;
import dev.genzoo.graphs.Progress;
import dev.genzoo.graphs.nn.HostTensors;
import dev.genzoo.graphs.nn.Tensors;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.Tensor;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TFloat64;
import org.tensorflow.types.TInt64;
import org.tensorflow.types.family.TFloating;

/**
 * The host driver of an MCMC sampler: N parallel chains of a {@link McmcKernel} under an {@link Energy}, run from
 * Java. The graph holds a placeholder for the state x [N, ...], one for the seed [2] int64 and one transition, which
 * is {@code thin} kernel steps unrolled ({@link McmcKernel#unroll}) so that a thinned draw costs one
 * {@code Session.run}. {@link #run} does burn-in transitions, then {@code draws} transitions whose states it collects:
 * the samples (optional), the running mean and covariance over every chain and draw (Chan, Golub and LeVeque's
 * pairwise update, in double), and, for Metropolis kernels, the acceptance rate (the mean of the per-chain accept
 * indicators over every kernel step of the draws). Between transitions the state stays a tensor; it is copied to the
 * host only for the draws.
 *
 * <p>Transition t is fed the seed [Seeds.mix(seed, stream), t * thin], so its kernel steps get the distinct seeds
 * [.., t * thin + i + 1], i &lt; thin, and a chain is a pure function of (x0, seed): the same seed gives the same
 * chain, bit for bit, on the same machine.
 *
 * <p>A chain built by {@link #create} owns its graph and session ({@link #close} closes them), for analytic energies;
 * the constructor adds the transition to a given graph whose session holds a trained energy's variables, and closes
 * nothing of it. A progress display appears on standard error when a run has lasted 3 s and has at least 3 s to go
 * (so short runs show none; off altogether with {@link #progress(boolean) progress(false)}).
 */
public final class McmcChain implements AutoCloseable {
  /** Above this many dimensions per example, only the per-coordinate variances are accumulated. */
  public static final int MAX_COVARIANCE_DIM = 256;

  private static final long STREAM = 0x6d636d6300000000L; // "mcmc" as ASCII, the chain's seed stream
  private static final long PROGRESS_AFTER_NANOS = 3_000_000_000L;

  private final Graph ownedGraph;
  private final Session ownedSession;
  private final Session session;
  private final Placeholder<TFloating> x;
  private final Placeholder<TInt64> seed;
  private final Operand<TFloating> next;
  private final Operand<TFloating> accepted;
  private final long[] exampleShape;
  private final int dim;
  private final Class<TFloating> dtype;
  private final int thin;
  private boolean progress = true;

  /**
   * Adds the transition to {@code graph}, run in {@code session} (neither is closed by {@link #close}).
   *
   * @param exampleShape the shape of one example: [d] for points, [H, W, C] for images
   * @param thin the kernel steps per transition (per draw), at least 1
   */
  public McmcChain(Graph graph, Session session, Energy energy, McmcKernel kernel, long[] exampleShape,
      Class<TFloating> dtype, int thin) {
    this(graph, session, null, null, energy, kernel, exampleShape, dtype, thin);
  }

  private McmcChain(Graph graph, Session session, Graph ownedGraph, Session ownedSession, Energy energy,
      McmcKernel kernel, long[] exampleShape, Class<TFloating> dtype, int thin) {
    if (thin < 1) {
      throw new IllegalArgumentException("MCMC chain: thin must be at least 1, got " + thin);
    }
    long d = 1;
    for (long s : exampleShape) {
      if (s < 1) {
        throw new IllegalArgumentException("MCMC chain: example shape must be positive, got " + Shape.of(exampleShape));
      }
      d = Math.multiplyExact(d, s);
    }
    this.exampleShape = exampleShape.clone();
    this.dim = Math.toIntExact(d);
    this.dtype = dtype;
    this.thin = thin;
    this.session = session;
    this.ownedGraph = ownedGraph;
    this.ownedSession = ownedSession;
    Ops tf = Ops.create(graph);
    this.x = tf.placeholder(dtype, Placeholder.shape(Shape.of(Tensors.batchShape(-1, exampleShape))));
    this.seed = tf.placeholder(TInt64.class, Placeholder.shape(Shape.of(2)));
    McmcKernel.Move move = kernel.unroll(tf, energy, x, seed, thin);
    this.next = move.x();
    this.accepted = move.accepted();
  }

  /** A chain in a graph and session of its own, closed by {@link #close}. */
  public static McmcChain create(Energy energy, McmcKernel kernel, long[] exampleShape, Class<TFloating> dtype,
      int thin) {
    Graph g = new Graph();
    Session s = null;
    try {
      s = new Session(g);
      return new McmcChain(g, s, g, s, energy, kernel, exampleShape, dtype, thin);
    } catch (RuntimeException | Error e) {
      if (s != null) {
        s.close();
      }
      g.close();
      throw e;
    }
  }

  /** A float64 chain over points in R^d, in a graph and session of its own. */
  @SuppressWarnings("unchecked")
  public static McmcChain create(Energy energy, McmcKernel kernel, int d, int thin) {
    return create(energy, kernel, new long[] {d}, (Class<TFloating>) (Class<?>) TFloat64.class, thin);
  }

  /** Whether long runs show progress (default true). */
  public McmcChain progress(boolean on) {
    this.progress = on;
    return this;
  }

  /**
   * The result of a run.
   *
   * @param chains N
   * @param dim the values per example (product of the example shape)
   * @param draws the transitions after burn-in whose states were collected
   * @param last the final states, N x dim
   * @param samples the collected states, draws x N x dim row-major, or null when not kept
   * @param mean the mean over every collected state, [dim] (null without draws, as are the next two)
   * @param covariance the covariance (divisor: count) over every collected state, dim x dim row-major, or null above
   *     {@link #MAX_COVARIANCE_DIM}
   * @param variance the per-coordinate variances (the covariance's diagonal), [dim]
   * @param acceptanceRate the mean accept indicator over the draws' kernel steps and chains; NaN for kernels that
   *     always move, or without draws
   * @param seconds the run's wall time
   */
  public record Run(int chains, int dim, int draws, double[] last, double[] samples, double[] mean,
      double[] covariance, double[] variance, double acceptanceRate, double seconds) {
    /** The collected states counted: draws * chains. */
    public long count() {
      return (long) draws * chains;
    }
  }

  /** {@link #run(double[], long, int, int, boolean)} keeping the samples. */
  public Run run(double[] x0, long seed, int burnIn, int draws) {
    return run(x0, seed, burnIn, draws, true);
  }

  /**
   * Runs the chains from {@code x0} (N x dim values, N = x0.length / dim): {@code burnIn} transitions, then
   * {@code draws} transitions whose states are collected; each transition is {@code thin} kernel steps.
   */
  public Run run(double[] x0, long seed, int burnIn, int draws, boolean keepSamples) {
    if (x0.length == 0 || x0.length % dim != 0) {
      throw new IllegalArgumentException("MCMC chain: the start has " + x0.length + " values, not a positive multiple"
          + " of the example size " + dim);
    }
    if (burnIn < 0 || draws < 0) {
      throw new IllegalArgumentException("MCMC chain: negative burn-in " + burnIn + " or draws " + draws);
    }
    int n = x0.length / dim;
    long startNanos = System.nanoTime();
    long stream = Seeds.mix(seed, STREAM);
    int total = burnIn + draws;
    double[] samples = keepSamples ? new double[Math.multiplyExact(Math.multiplyExact(draws, n), dim)] : null;
    Moments moments = new Moments(dim, dim <= MAX_COVARIANCE_DIM);
    double acceptSum = 0;
    Progress bar = null;
    Tensor start = HostTensors.of(dtype, x0, Tensors.batchShape(n, exampleShape));
    Result held = null;
    try {
      Tensor state = start;
      for (int t = 0; t < total; t++) {
        boolean collect = t >= burnIn;
        Session.Runner runner;
        Result r;
        try (TInt64 seedT = TInt64.vectorOf(stream, (long) t * thin)) {
          runner = session.runner().feed(x, state).feed(this.seed, seedT).fetch(next);
          if (collect && accepted != null) {
            runner.fetch(accepted);
          }
          r = runner.run();
        }
        if (held != null) {
          held.close();
        }
        held = r;
        state = r.get(0);
        if (collect) {
          double[] xs = HostTensors.toDoubles(state);
          moments.add(xs, n);
          if (samples != null) {
            System.arraycopy(xs, 0, samples, (t - burnIn) * n * dim, n * dim);
          }
          if (accepted != null) {
            double[] a = HostTensors.toDoubles(r.get(1));
            double s = 0;
            for (double v : a) {
              s += v;
            }
            acceptSum += s / n;
          }
        }
        if (progress && bar == null) {
          long elapsed = System.nanoTime() - startNanos;
          double left = (double) elapsed * (total - t - 1) / (t + 1);
          if (elapsed > PROGRESS_AFTER_NANOS && left > PROGRESS_AFTER_NANOS) {
            bar = Progress.start("mcmc", (long) (t + 1) * thin, (long) total * thin, "steps");
          }
        }
        if (bar != null) {
          if (accepted != null && t > burnIn) {
            bar.message(String.format("acceptance %.3f", acceptSum / (t - burnIn + 1)));
          }
          bar.stepTo((long) (t + 1) * thin);
        }
      }
      double[] last = HostTensors.toDoubles(state);
      double rate = accepted == null || draws == 0 ? Double.NaN : acceptSum / draws;
      return new Run(n, dim, draws, last, samples, moments.mean(), moments.covariance(), moments.variance(), rate,
          (System.nanoTime() - startNanos) / 1e9);
    } finally {
      if (held != null) {
        held.close();
      }
      start.close();
      if (bar != null) {
        bar.close();
      }
    }
  }

  /** The values per example. */
  public int dim() {
    return dim;
  }

  /** The kernel steps per transition. */
  public int thin() {
    return thin;
  }

  @Override
  public void close() {
    if (ownedSession != null) {
      ownedSession.close();
    }
    if (ownedGraph != null) {
      ownedGraph.close();
    }
  }

  /**
   * Running mean and covariance (or variances) of d-vectors, batch by batch: each batch's mean and centred
   * co-moments merged with Chan, Golub and LeVeque's (1979) pairwise formula, M2 += M2_b + delta delta^T n n_b / n'.
   */
  static final class Moments {
    private final int d;
    private final boolean full;
    private long count;
    private final double[] mean;
    private final double[] m2;

    Moments(int d, boolean full) {
      this.d = d;
      this.full = full;
      this.mean = new double[d];
      this.m2 = new double[full ? d * d : d];
    }

    void add(double[] rows, int n) {
      double[] bm = new double[d];
      for (int i = 0; i < n; i++) {
        for (int j = 0; j < d; j++) {
          bm[j] += rows[i * d + j];
        }
      }
      for (int j = 0; j < d; j++) {
        bm[j] /= n;
      }
      double[] bm2 = new double[m2.length];
      double[] c = new double[d];
      for (int i = 0; i < n; i++) {
        for (int j = 0; j < d; j++) {
          c[j] = rows[i * d + j] - bm[j];
        }
        if (full) {
          for (int a = 0; a < d; a++) {
            double ca = c[a];
            for (int b = a; b < d; b++) {
              bm2[a * d + b] += ca * c[b];
            }
          }
        } else {
          for (int a = 0; a < d; a++) {
            bm2[a] += c[a] * c[a];
          }
        }
      }
      long total = count + n;
      double w = (double) count * n / total;
      double[] delta = new double[d];
      for (int j = 0; j < d; j++) {
        delta[j] = bm[j] - mean[j];
        mean[j] += delta[j] * n / total;
      }
      if (full) {
        for (int a = 0; a < d; a++) {
          for (int b = a; b < d; b++) {
            m2[a * d + b] += bm2[a * d + b] + delta[a] * delta[b] * w;
          }
        }
      } else {
        for (int a = 0; a < d; a++) {
          m2[a] += bm2[a] + delta[a] * delta[a] * w;
        }
      }
      count = total;
    }

    double[] mean() {
      return count == 0 ? null : mean.clone();
    }

    double[] covariance() {
      if (!full || count == 0) {
        return null;
      }
      double[] c = new double[d * d];
      for (int a = 0; a < d; a++) {
        for (int b = a; b < d; b++) {
          c[a * d + b] = m2[a * d + b] / count;
          c[b * d + a] = c[a * d + b];
        }
      }
      return c;
    }

    double[] variance() {
      if (count == 0) {
        return null;
      }
      double[] v = new double[d];
      for (int a = 0; a < d; a++) {
        v[a] = (full ? m2[a * d + a] : m2[a]) / count;
      }
      return v;
    }
  }
}
