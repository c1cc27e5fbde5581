package dev.genzoo.graphs.ebm;

import dev.genzoo.data.Seeds;
import dev.genzoo.graphs.nn.HostTensors;
import dev.genzoo.graphs.nn.Tensors;
import java.util.Arrays;
import java.util.List;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Op;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TFloat64;
import org.tensorflow.types.TInt64;
import org.tensorflow.types.family.TFloating;

/**
 * Rejection sampling (von Neumann 1951) of p(x) = exp(-U(x)) / Z restricted to a box [lo, hi] (d small): candidates
 * x ~ q = Uniform([lo, hi]), each accepted with probability exp(-U(x)) / (M q(x)), which gives exact, independent
 * samples provided exp(-U(x)) &lt;= M q(x) on the box, i.e.
 * <pre>
 *   logBound = log M &gt;= max_x (-U(x)) - log q(x) = max_x (-U(x)) + log vol([lo, hi]).
 * </pre>
 * The acceptance rate is Z_box / M, so a tight bound matters; the cost grows exponentially with d, which is why this
 * is a sampler for one- and two-dimensional energies (exact negatives for maximum-likelihood training on toys,
 * ground truth for testing MCMC). The caller supplies the bound, or {@link #onGrid} estimates it for d &lt;= 2.
 *
 * <p>A violated bound (a candidate with exp(-U) / (M q) &gt; 1) would silently bias the samples towards the
 * region where it happens, so it is an error: the in-graph {@link #propose} carries an assertion that fails the
 * {@code Session.run}, and the host {@link #draw} throws {@link IllegalStateException}; both report the largest log
 * ratio seen. A candidate with a non-finite energy is rejected (NaN also fails the assertion).
 */
public final class RejectionSampler {
  private static final long STREAM = 0x72656a6563740000L; // "reject" as ASCII, the host loop's seed stream

  private final double[] lo;
  private final double[] hi;
  private final double logBound;
  private final double logVolume;

  /**
   * @param lo the box's lower corner, length d
   * @param hi the box's upper corner, length d, each above {@code lo}
   * @param logBound log M, at least max over the box of -U(x) + log vol
   */
  public RejectionSampler(double[] lo, double[] hi, double logBound) {
    if (lo.length == 0 || lo.length != hi.length) {
      throw new IllegalArgumentException("rejection sampler: lo and hi must have the same positive length, got "
          + lo.length + " and " + hi.length);
    }
    double v = 0;
    for (int i = 0; i < lo.length; i++) {
      if (!(hi[i] > lo[i]) || !Double.isFinite(lo[i]) || !Double.isFinite(hi[i])) {
        throw new IllegalArgumentException("rejection sampler: empty or infinite box side " + i + ": [" + lo[i]
            + ", " + hi[i] + "]");
      }
      v += Math.log(hi[i] - lo[i]);
    }
    if (!Double.isFinite(logBound)) {
      throw new IllegalArgumentException("rejection sampler: log bound must be finite, got " + logBound);
    }
    this.lo = lo.clone();
    this.hi = hi.clone();
    this.logBound = logBound;
    this.logVolume = v;
  }

  /**
   * A sampler whose bound is estimated on a grid (d &lt;= 2): logBound = max over {@code pointsPerAxis}^d grid points
   * (box corners included) of -U + log vol, plus {@code margin}. Not a guarantee: between grid points -U can rise
   * above its grid maximum by about (h^2 / 8) times the largest curvature of U near the mode (h the grid spacing;
   * 2e-4 nats for a unit-variance mode with 1001 points on [-20, 20], h = 0.04), so pick the margin above that; a
   * bound that turns out too small is still caught by the violation check on every candidate drawn. The energy is
   * evaluated in float64 in a graph of its own (for an analytic energy; see
   * {@link #gridLogBound(Session, Ops, Energy, double[], double[], int, Class)} for an energy with variables).
   */
  public static RejectionSampler onGrid(Energy energy, double[] lo, double[] hi, int pointsPerAxis, double margin) {
    if (!(margin >= 0)) {
      throw new IllegalArgumentException("rejection sampler: grid margin must be non-negative, got " + margin);
    }
    double max;
    try (Graph g = new Graph(); Session s = new Session(g)) {
      max = gridLogBound(s, Ops.create(g), energy, lo, hi, pointsPerAxis, f64());
    }
    return new RejectionSampler(lo, hi, max + margin);
  }

  /**
   * max over the grid of -U(x) + log vol([lo, hi]) (no margin), evaluated in the session's graph (ops are added to it)
   * in {@code dt}; d &lt;= 2.
   */
  public static double gridLogBound(Session session, Ops tf, Energy energy, double[] lo, double[] hi,
      int pointsPerAxis, Class<TFloating> dt) {
    RejectionSampler box = new RejectionSampler(lo, hi, 0);
    int d = lo.length;
    if (d > 2) {
      throw new IllegalArgumentException("rejection sampler: the grid bound is for d <= 2, got d = " + d);
    }
    if (pointsPerAxis < 2) {
      throw new IllegalArgumentException("rejection sampler: at least 2 grid points per axis, got " + pointsPerAxis);
    }
    int n = d == 1 ? pointsPerAxis : Math.multiplyExact(pointsPerAxis, pointsPerAxis);
    double[] grid = new double[n * d];
    for (int i = 0; i < n; i++) {
      int rest = i;
      for (int j = d - 1; j >= 0; j--) {
        int k = rest % pointsPerAxis;
        rest /= pointsPerAxis;
        grid[i * d + j] = lo[j] + (hi[j] - lo[j]) * k / (pointsPerAxis - 1);
      }
    }
    Operand<TFloating> x = Tensors.constant(tf, dt, grid, Shape.of(n, d));
    Operand<TFloating> maxNegU = tf.max(tf.math.neg(energy.apply(tf, x)), tf.constant(0));
    try (Result r = session.runner().fetch(maxNegU).run()) {
      double m = HostTensors.toDoubles(r.get(0))[0];
      if (!Double.isFinite(m)) {
        throw new IllegalStateException("rejection sampler: the energy's grid maximum of -U is " + m);
      }
      return m + box.logVolume;
    }
  }

  /** The in-graph proposals of one round: m candidates and their 0/1 acceptance indicators. */
  public record Proposals(Operand<TFloating> candidates /* [M, d] */, Operand<TFloating> accepted /* [M] 0/1 */) {}

  /**
   * {@code m} candidates uniform on the box (seed + [1, 0]) and their acceptance indicators (uniforms from
   * seed + [2, 0]); the accepted candidates are exact samples, so a masked mean over them (sum accepted * f /
   * sum accepted) estimates E_p f. Both outputs depend on an assertion that fails the run, naming the largest log
   * ratio, when the bound is violated at any candidate.
   */
  public Proposals propose(Ops tf, Energy energy, int m, Operand<TInt64> seed, Class<TFloating> dt) {
    Built b = build(tf, energy, m, seed, dt);
    Operand<TFloating> maxLogRatio = tf.max(b.logRatio, tf.constant(0));
    Op check = tf.assertThat(tf.math.lessEqual(maxLogRatio, Tensors.constant(tf, dt, tolerance(dt))),
        List.of(tf.constant("RejectionSampler: the bound is violated, exp(-U(x)) / (M q(x)) > 1 at a candidate, so the"
            + " samples would not be exact (NaN: a non-finite energy). logBound = log M = " + logBound
            + ", log vol = " + logVolume + "; the largest log ratio -U(x) - log q(x) - log M drawn is:"), maxLogRatio));
    Ops after = tf.withControlDependencies(List.of(check));
    return new Proposals(after.identity(b.candidates), after.identity(b.accepted));
  }

  /** log(exp(-U(x)) / (M q(x))) = -U(x) + log vol - log M for candidates {@code x} [M, d] in the box: [M]. */
  public Operand<TFloating> logRatio(Ops tf, Energy energy, Operand<TFloating> x) {
    Class<TFloating> dt = x.type();
    return tf.math.add(tf.math.neg(energy.apply(tf, x)), Tensors.constant(tf, dt, logVolume - logBound));
  }

  private record Built(Operand<TFloating> candidates, Operand<TFloating> accepted, Operand<TFloating> logRatio) {}

  private Built build(Ops tf, Energy energy, int m, Operand<TInt64> seed, Class<TFloating> dt) {
    if (m < 1) {
      throw new IllegalArgumentException("rejection sampler: at least one candidate per round, got " + m);
    }
    int d = lo.length;
    double[] width = new double[d];
    for (int i = 0; i < d; i++) {
      width[i] = hi[i] - lo[i];
    }
    Operand<TFloating> u01 = tf.random.statelessRandomUniform(tf.constant(new long[] {m, d}),
        Mala.subSeed(tf, seed, 1), dt);
    Operand<TFloating> x = tf.math.add(Tensors.constant(tf, dt, lo, Shape.of(1, d)),
        tf.math.mul(u01, Tensors.constant(tf, dt, width, Shape.of(1, d))));
    Operand<TFloating> logRatio = logRatio(tf, energy, x);
    Operand<TFloating> u = tf.random.statelessRandomUniform(tf.constant(new long[] {m}), Mala.subSeed(tf, seed, 2),
        dt);
    Operand<TFloating> accepted = tf.dtypes.cast(tf.math.less(tf.math.log(u), logRatio), dt);
    return new Built(x, accepted, logRatio);
  }

  /** The slack allowed on a log ratio above 0 for rounding: a few hundred ulps of the terms it is made of. */
  private double tolerance(Class<TFloating> dt) {
    double eps = dt == (Class<?>) TFloat64.class ? 1e-12 : 1e-5;
    return eps * (1 + Math.abs(logBound) + Math.abs(logVolume));
  }

  /**
   * The host form's result.
   *
   * @param x the n accepted samples, row-major n x d
   * @param proposed the number of candidates drawn (whole rounds; the surplus accepted ones are dropped)
   * @param accepted the number accepted among them
   * @param maxLogRatio the largest -U(x) - log q(x) - log M over every candidate drawn (&lt;= 0 when the bound holds)
   */
  public record Draws(double[] x, long proposed, long accepted, double maxLogRatio) {
    /** accepted / proposed, an estimate of Z_box / M. */
    public double acceptanceRate() {
      return (double) accepted / proposed;
    }
  }

  /** {@code n} exact samples (n x d doubles) of an analytic energy: float64, rounds of 4096 candidates. */
  public double[] sample(Energy energy, int n, long seed) {
    return draw(energy, n, seed, 4096, Long.MAX_VALUE).x();
  }

  /** {@link #draw(Session, Ops, Energy, int, long, int, long, Class)} in a float64 graph of its own. */
  public Draws draw(Energy energy, int n, long seed, int batch, long maxProposals) {
    try (Graph g = new Graph(); Session s = new Session(g)) {
      return draw(s, Ops.create(g), energy, n, seed, batch, maxProposals, f64());
    }
  }

  /**
   * The host loop: rounds of {@code batch} candidates, round i with the seed [Seeds.mix(seed, stream), i], until
   * {@code n} are accepted. Adds its ops to the session's graph (an energy with variables samples in its own
   * session). Fails with {@link IllegalStateException} when a candidate violates the bound, and when
   * {@code maxProposals} candidates did not give {@code n} samples.
   */
  public Draws draw(Session session, Ops tf, Energy energy, int n, long seed, int batch, long maxProposals,
      Class<TFloating> dt) {
    if (n < 0) {
      throw new IllegalArgumentException("rejection sampler: negative sample count " + n);
    }
    int d = lo.length;
    Operand<TInt64> seedPh = tf.placeholder(TInt64.class, Placeholder.shape(Shape.of(2)));
    Built b = build(tf, energy, batch, seedPh, dt);
    Operand<TFloating> maxLogRatio = tf.max(b.logRatio, tf.constant(0));
    double[] out = new double[n * d];
    long stream = Seeds.mix(seed, STREAM);
    long proposed = 0;
    long accepted = 0;
    double worst = Double.NEGATIVE_INFINITY;
    int filled = 0;
    for (long round = 0; filled < n; round++) {
      if (proposed >= maxProposals) {
        throw new IllegalStateException("rejection sampler: " + proposed + " candidates gave " + filled + " of " + n
            + " samples (acceptance " + (double) accepted / proposed + "); logBound " + logBound
            + " may be far above max(-U) + log vol, or the box misses the mass");
      }
      try (TInt64 seedT = TInt64.vectorOf(stream, round);
          Result r = session.runner().feed(seedPh, seedT).fetch(b.candidates).fetch(b.accepted).fetch(maxLogRatio)
              .run()) {
        double[] x = HostTensors.toDoubles(r.get(0));
        double[] a = HostTensors.toDoubles(r.get(1));
        double roundMax = HostTensors.toDoubles(r.get(2))[0];
        worst = Math.max(worst, roundMax);
        if (!(roundMax <= tolerance(dt))) {
          throw new IllegalStateException("rejection sampler: the bound is violated: a candidate has log(exp(-U(x)) "
              + "/ (M q(x))) = " + roundMax + (Double.isNaN(roundMax) ? " (a non-finite energy)" : " > 0")
              + ", so the samples would not be exact;"
              + " logBound = " + logBound + " must be at least max(-U) + log vol = " + (roundMax + logBound)
              + " (log vol = " + logVolume + ")");
        }
        proposed += batch;
        for (int i = 0; i < batch; i++) {
          if (a[i] != 0) {
            accepted++;
            if (filled < n) {
              System.arraycopy(x, i * d, out, filled * d, d);
              filled++;
            }
          }
        }
      }
    }
    return new Draws(out, proposed, accepted, worst);
  }

  public int dim() {
    return lo.length;
  }

  public double[] lo() {
    return lo.clone();
  }

  public double[] hi() {
    return hi.clone();
  }

  /** log M. */
  public double logBound() {
    return logBound;
  }

  /** log vol([lo, hi]) = -log q. */
  public double logVolume() {
    return logVolume;
  }

  @Override
  public String toString() {
    return "RejectionSampler[lo=" + Arrays.toString(lo) + ", hi=" + Arrays.toString(hi) + ", logBound=" + logBound
        + "]";
  }

  @SuppressWarnings("unchecked")
  private static Class<TFloating> f64() {
    return (Class<TFloating>) (Class<?>) TFloat64.class;
  }
}
