package dev.genzoo.graphs.ebm;

import dev.genzoo.data.Seeds;
import dev.genzoo.graphs.Progress;
import dev.genzoo.graphs.nn.HostTensors;
import dev.genzoo.graphs.nn.Initializer;
import dev.genzoo.graphs.nn.Tensors;
import dev.genzoo.graphs.nn.VarStore;
import dev.genzoo.graphs.train.OptimizerConfig;
import dev.genzoo.graphs.train.Optimizers;
import dev.genzoo.graphs.train.TrainingConfig;
import dev.genzoo.io.AtomicFiles;
import dev.genzoo.viz.Plots;
import dev.genzoo.viz.Series;
import java.awt.Color;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Output;
import org.tensorflow.Session;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Op;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TFloat64;
import org.tensorflow.types.TInt64;
import org.tensorflow.types.family.TFloating;

/**
 * The lecture notes' toy model of EBM training ("Training procedures III: getting insight from toy models"): a
 * one-parameter family of two-mode mixtures,
 * <pre>
 *   U_theta(x) = -log( exp(-(x - a)^2 / 2) + exp(-theta) exp(-(x - b)^2 / 2) ),   a = -10, b = 10,
 *   Z_theta = (1 + exp(-theta)) sqrt(2 pi),   q_theta = exp(-theta) / (1 + exp(-theta))  (the mass of the mode at b),
 * </pre>
 * trained on exact samples of rho_theta* with q* = 0.8 (theta* = -log 4) by four methods from the same theta(0), each
 * by plain SGD on theta (one {@code Session.run} per step, a discretised gradient flow), with the outcomes the notes
 * derive from grad_theta U ~ 1[x near b] and grad_x U ~ (x - a) 1[x near a] + (x - b) 1[x near b]:
 * <ul>
 *   <li><b>ml</b>, maximum likelihood with exact negatives (in-graph rejection sampling of rho_theta at every step):
 *       d theta/dt = q_theta - q*, which converges to theta*;
 *   <li><b>sm</b>, exact score matching (Hyvarinen 2005): the score does not depend on theta away from the barrier at
 *       x = 0, so grad_theta SM ~ 0 and theta does not move ("no learning");
 *   <li><b>pcd</b>, persistent contrastive divergence (Tieleman 2008) with Langevin walkers started at samples of
 *       rho_theta(0): no walker crosses the barrier, their mode shares stay at q(0), so d theta/dt = q(0) - q* is
 *       constant and theta drifts linearly to -infinity (q(0) &lt; q*) or +infinity (q(0) &gt; q*): mode collapse;
 *   <li><b>nce</b>, noise-contrastive estimation (Gutmann and Hyvarinen 2010) with the notes' discriminator
 *       D = exp(-U_theta) / (exp(-U_theta) + exp(-U_mu)), noise = exact samples of rho_mu: converges to a fixed point
 *       other than theta*.
 * </ul>
 *
 * <p><b>The NCE fixed point.</b> Near a both exp(-U_theta) and exp(-U_mu) are exp(-(x - a)^2 / 2), so D = 1/2 there
 * whatever theta; near b, D = r = exp(-theta) / (exp(-theta) + exp(-mu)). The expected loss is therefore, up to
 * theta-independent terms, -q* log r - q_mu log(1 - r) (data put q* of their mass near b, the noise q_mu), minimal at
 * r = q* / (q* + q_mu), which is the notes' flow d theta/dt = -q* + (q* + q_mu) r set to 0. Solving
 * exp(-theta) / exp(-mu) = r / (1 - r) = q* / q_mu gives
 * <pre>
 *   theta_NCE = mu + log(q_mu / q*) = theta* + log( (1 + exp(-theta*)) / (1 + exp(-mu)) ).
 * </pre>
 * The notes (and the issue) state mu + log((1 + e^-theta*) / (1 + e^-mu)), which is not a zero of their own flow: with
 * q* = 0.8 and mu = -3 it gives -4.439, while the flow's zero, the minimiser of the exactly integrated NCE objective
 * (quadrature, BimodalExperimentTest) and the simulation all give -2.825 (for mu = 1: 2.296 against -0.090). Both forms agree only at mu = theta*. With the
 * noise's normalised density q = rho_mu in the logit (textbook NCE), the fixed point would instead be
 * theta = log(sqrt(2 pi) / q*) = 1.142: the unnormalised model matches rho* on the mode at b, since the weight of the
 * mode at a is not a parameter.
 */
public final class BimodalExperiment {
  /** The modes of the lecture's toy. */
  public static final double A = -10;
  public static final double B = 10;

  private static final double LOG_SQRT_2PI = 0.5 * Math.log(2 * Math.PI);

  /** The training methods compared. */
  public enum Method {
    ML, SM, PCD, NCE;

    /** The lower-case name used on the command line and in the outputs. */
    public String id() {
      return name().toLowerCase(Locale.ROOT);
    }

    public static Method parse(String id) {
      for (Method m : values()) {
        if (m.id().equalsIgnoreCase(id.trim())) {
          return m;
        }
      }
      throw new IllegalArgumentException("unknown bimodal method '" + id + "': use ml, sm, pcd or nce");
    }
  }

  /**
   * What to run.
   *
   * @param outDir where the plot, the table and the trace are written, or null for no files
   * @param steps SGD steps per method
   * @param seed the run's seed (data, negatives, walkers and noise derive from it)
   * @param batchSize data samples per step (and noise samples for NCE)
   * @param learningRate the SGD step on theta
   * @param theta0 theta(0), the same for every method (0: q(0) = 1/2)
   * @param targetShare q*, the mass of the target's mode at b, in (0, 1) (0.8 in the notes)
   * @param noiseMu mu, the parameter of NCE's noise distribution rho_mu
   * @param langevinStep eta of PCD's Langevin walkers (noise sqrt(2 eta))
   * @param walkers the number of PCD walkers
   * @param proposals rejection-sampling candidates per ML step (2.4% accepted at theta = 0, 5.9% at theta*)
   * @param methods the methods to run, in order
   * @param progress whether to show a progress bar on standard error
   */
  public record Options(Path outDir, int steps, long seed, int batchSize, double learningRate, double theta0,
      double targetShare, double noiseMu, double langevinStep, int walkers, int proposals, List<Method> methods,
      boolean progress) {
    public Options {
      if (steps < 1 || batchSize < 1 || walkers < 1 || proposals < 1) {
        throw new IllegalArgumentException("bimodal experiment: steps, batch size, walkers and proposals must be "
            + "positive");
      }
      if (!(learningRate > 0) || !Double.isFinite(learningRate)) {
        throw new IllegalArgumentException("bimodal experiment: the learning rate must be positive, got "
            + learningRate);
      }
      if (!(targetShare > 0 && targetShare < 1)) {
        throw new IllegalArgumentException("bimodal experiment: q* must lie in (0, 1), got " + targetShare);
      }
      if (!Double.isFinite(theta0) || !Double.isFinite(noiseMu) || Math.abs(theta0) > 30 || Math.abs(noiseMu) > 30) {
        throw new IllegalArgumentException("bimodal experiment: theta(0) and mu must be finite, |.| <= 30");
      }
      if (!(langevinStep > 0 && langevinStep < 1)) {
        throw new IllegalArgumentException("bimodal experiment: the Langevin step must lie in (0, 1), got "
            + langevinStep);
      }
      methods = List.copyOf(Objects.requireNonNull(methods, "methods"));
      if (methods.isEmpty()) {
        throw new IllegalArgumentException("bimodal experiment: no method to run");
      }
    }

    /**
     * The defaults: 300 steps of SGD with learning rate 0.1 from theta(0) = 0, q* = 0.8, mu = -3 (the noise puts
     * 95% of its mass at b, so NCE's fixed point, -2.825, lies clearly away from both theta(0) and theta*), batch
     * 512, 512 Langevin walkers with eta = 0.1, 8192 candidates per ML step, every method, seed 0.
     */
    public static Options defaults(Path outDir) {
      return new Options(outDir, 300, 0, 512, 0.1, 0.0, 0.8, -3.0, 0.1, 512, 8192, List.of(Method.values()), true);
    }

    public Options withSteps(int n) {
      return new Options(outDir, n, seed, batchSize, learningRate, theta0, targetShare, noiseMu, langevinStep,
          walkers, proposals, methods, progress);
    }

    public Options withSeed(long s) {
      return new Options(outDir, steps, s, batchSize, learningRate, theta0, targetShare, noiseMu, langevinStep,
          walkers, proposals, methods, progress);
    }

    public Options withBatchSize(int b) {
      return new Options(outDir, steps, seed, b, learningRate, theta0, targetShare, noiseMu, langevinStep, walkers,
          proposals, methods, progress);
    }

    public Options withTheta0(double t) {
      return new Options(outDir, steps, seed, batchSize, learningRate, t, targetShare, noiseMu, langevinStep, walkers,
          proposals, methods, progress);
    }

    public Options withMethods(List<Method> m) {
      return new Options(outDir, steps, seed, batchSize, learningRate, theta0, targetShare, noiseMu, langevinStep,
          walkers, proposals, m, progress);
    }

    public Options withProgress(boolean on) {
      return new Options(outDir, steps, seed, batchSize, learningRate, theta0, targetShare, noiseMu, langevinStep,
          walkers, proposals, methods, on);
    }

    /** theta* = log((1 - q*) / q*). */
    public double thetaStar() {
      return thetaForShare(targetShare);
    }
  }

  /**
   * One method's run.
   *
   * @param method the method
   * @param theta theta(t) for t = 0..steps (theta[0] = theta(0))
   * @param negativeShare per step, the fraction of the negatives in the mode at b (ML: the accepted candidates; PCD:
   *     the walkers after the step); NaN for SM and NCE
   * @param finalTheta the mean of theta over the last tenth of the steps (at least one), which averages out the
   *     minibatch noise
   * @param expected the value {@code finalTheta} should take by the notes' analysis
   * @param expectation the behaviour predicted, in words
   * @param agrees whether the run shows it (see {@link #run} for the criteria)
   */
  public record MethodResult(Method method, double[] theta, double[] negativeShare, double finalTheta,
      double expected, String expectation, boolean agrees) {
    public double theta0() {
      return theta[0];
    }

    /** theta after the last step. */
    public double lastTheta() {
      return theta[theta.length - 1];
    }
  }

  /**
   * The experiment's outcome.
   *
   * @param options what was run
   * @param thetaStar theta*
   * @param nceFixedPoint theta* + log((1 + e^-theta*) / (1 + e^-mu)), NCE's fixed point
   * @param nceFixedPointAsInNotes the notes' formula mu + log((1 + e^-theta*) / (1 + e^-mu)), which is wrong (see the
   *     class comment); reported for comparison
   * @param methods the runs, in the order of the options
   * @param plot the PNG of theta(t), or null
   * @param table the markdown table, or null
   * @param trace the CSV of theta(t) per method, or null
   * @param markdown the table's text
   */
  public record Result(Options options, double thetaStar, double nceFixedPoint, double nceFixedPointAsInNotes,
      List<MethodResult> methods, Path plot, Path table, Path trace, String markdown) {
    public MethodResult get(Method m) {
      for (MethodResult r : methods) {
        if (r.method() == m) {
          return r;
        }
      }
      throw new IllegalArgumentException("method " + m.id() + " was not run");
    }
  }

  private BimodalExperiment() {}

  // ------------------------------------------------------------------------------------------------ closed forms

  /** q_theta = e^-theta / (1 + e^-theta), the mass of the mode at b. */
  public static double share(double theta) {
    return 1 / (1 + Math.exp(theta));
  }

  /** The theta whose mode at b has mass q: log((1 - q) / q). */
  public static double thetaForShare(double q) {
    return Math.log((1 - q) / q);
  }

  /** log Z_theta = log(1 + e^-theta) + log sqrt(2 pi). */
  public static double logPartition(double theta) {
    return log1pExp(-theta) + LOG_SQRT_2PI;
  }

  /** NCE's fixed point with noise rho_mu and the notes' discriminator: theta* + log((1 + e^-theta*) / (1 + e^-mu)). */
  public static double nceFixedPoint(double thetaStar, double mu) {
    return thetaStar + log1pExp(-thetaStar) - log1pExp(-mu);
  }

  /** The notes' stated fixed point mu + log((1 + e^-theta*) / (1 + e^-mu)): not a zero of their flow unless mu = theta*. */
  public static double nceFixedPointAsInNotes(double thetaStar, double mu) {
    return mu + log1pExp(-thetaStar) - log1pExp(-mu);
  }

  private static double log1pExp(double v) {
    return v > 0 ? v + Math.log1p(Math.exp(-v)) : Math.log1p(Math.exp(v));
  }

  // ------------------------------------------------------------------------------------------------ graph pieces

  /**
   * U_theta(x) for x [N, 1] in the stable form (x - a)^2 / 2 - softplus((b - a) x + (a^2 - b^2) / 2 - theta), equal
   * to -log(exp(-(x - a)^2 / 2) + exp(-theta) exp(-(x - b)^2 / 2)); {@code theta} a scalar operand (a variable's
   * value or a constant). Its derivatives of every order exist once {@link SecondOrderGradients} is installed.
   */
  public static Energy energy(double a, double b, Operand<TFloating> theta) {
    return (tf, x) -> {
      Class<TFloating> dt = x.type();
      Operand<TFloating> xs = tf.reshape(x, tf.constant(new int[] {-1}));
      Operand<TFloating> quad = tf.math.mul(Tensors.constant(tf, dt, 0.5),
          tf.math.square(tf.math.sub(xs, Tensors.constant(tf, dt, a))));
      Operand<TFloating> h = tf.math.sub(tf.math.add(tf.math.mul(Tensors.constant(tf, dt, b - a), xs),
          Tensors.constant(tf, dt, 0.5 * (a * a - b * b))), theta);
      return tf.math.sub(quad, tf.math.softplus(h));
    };
  }

  /** The exact distribution rho_theta = (1 - q_theta) N(a, 1) + q_theta N(b, 1), as a sampler and log-density. */
  public static NoiseContrastive.GaussianMixture1d distribution(double a, double b, double theta) {
    return NoiseContrastive.GaussianMixture1d.twoModes(a, b, share(theta));
  }

  // ------------------------------------------------------------------------------------------------ the run

  /**
   * Trains theta by each method, writes {@code bimodal_theta.png} (theta(t) per method with theta* and the NCE fixed
   * point as reference lines), {@code bimodal.md} (method, theta(0), final theta, expected, verdict) and
   * {@code bimodal_theta.csv} under the output folder, and returns the traces.
   *
   * <p>Verdicts, on the final theta (mean of the last tenth): ml agrees when within 0.1 of theta*; sm when theta never
   * moved more than 0.05 from theta(0); pcd when theta moved in the predicted direction sign(q(0) - q*) past theta* by
   * more than 1 and within 20% of the linear drift predicted from the walkers' initial share; nce when within 0.1 of
   * its fixed point and more than 0.5 away from theta* (when those differ by more than 0.6).
   */
  public static Result run(Options o) throws IOException {
    SecondOrderGradients.install();
    double thetaStar = o.thetaStar();
    List<MethodResult> results = new ArrayList<>();
    for (int i = 0; i < o.methods().size(); i++) {
      results.add(train(o, o.methods().get(i)));
    }
    double fixed = nceFixedPoint(thetaStar, o.noiseMu());
    double notes = nceFixedPointAsInNotes(thetaStar, o.noiseMu());
    String md = markdown(o, thetaStar, fixed, notes, results);
    Path plot = null;
    Path table = null;
    Path trace = null;
    if (o.outDir() != null) {
      Files.createDirectories(o.outDir());
      plot = o.outDir().resolve("bimodal_theta.png");
      table = o.outDir().resolve("bimodal.md");
      trace = o.outDir().resolve("bimodal_theta.csv");
      plot(results, thetaStar, fixed, o, plot);
      AtomicFiles.writeString(table, md);
      AtomicFiles.writeString(trace, csv(results));
    }
    return new Result(o, thetaStar, fixed, notes, List.copyOf(results), plot, table, trace, md);
  }

  /** Stream tags of the step seed (see {@link ObjectiveSeeds}). */
  private static final long DATA = 101;
  private static final long NEGATIVES = 202;
  private static final long WALKERS = 303;
  private static final long NOISE = 404;

  @SuppressWarnings("unchecked")
  private static MethodResult train(Options o, Method method) {
    Class<TFloating> dt = (Class<TFloating>) (Class<?>) TFloat64.class;
    double thetaStar = o.thetaStar();
    try (Graph g = new Graph(); Session s = new Session(g)) {
      VarStore store = new VarStore(g, TFloat64.class, Seeds.mix(o.seed(), method.ordinal()));
      Ops tf = store.tf();
      Output<TFloating> theta = store.root().child("bimodal").variable("theta", new long[0],
          Initializer.constant(o.theta0()));
      Placeholder<TInt64> seed = tf.placeholder(TInt64.class, Placeholder.shape(Shape.of(2)));
      Placeholder<TInt64> step = tf.placeholder(TInt64.class, Placeholder.shape(Shape.scalar()));
      Energy energy = energy(A, B, theta);
      Operand<TFloating> data = distribution(A, B, thetaStar).sample(tf, o.batchSize(),
          ObjectiveSeeds.derive(tf, seed, DATA), dt);
      Operand<TFloating> loss;
      Operand<TFloating> share = null;
      Op extra = null;
      switch (method) {
        case ML -> {
          // exp(-U) <= max(1, e^-theta) on the box; theta stays between theta(0) and theta* up to noise, so the bound
          // for theta down to min(theta(0), theta*) - 0.5 holds (a violation would fail the run, never bias it)
          double thetaMin = Math.min(o.theta0(), thetaStar) - 0.5;
          double half = Math.max(Math.abs(A), Math.abs(B)) + 6;
          RejectionSampler sampler = new RejectionSampler(new double[] {-half}, new double[] {half},
              Math.max(0, -thetaMin) + Math.log(2 * half) + 1e-6);
          MaximumLikelihood.Loss l = MaximumLikelihood.exact(tf, energy, sampler, data, o.proposals(),
              ObjectiveSeeds.derive(tf, seed, NEGATIVES), 0);
          loss = l.loss();
          share = MaximumLikelihood.weightedMean(tf, rightOfZero(tf, l.negatives()), l.negativeWeights());
        }
        case SM -> loss = ScoreMatching.exact(tf, energy, data);
        case PCD -> {
          double q0 = share(o.theta0());
          PersistentChains chains = PersistentChains.of(store, "bimodal/pcd/walkers", new long[] {o.walkers(), 1},
              c -> NoiseContrastive.GaussianMixture1d.twoModes(A, B, q0).sample(c.tf(), o.walkers(),
                  c.tf().constant(c.seed()), c.dtype()));
          PersistentChains.Advance adv = chains.advance(tf, energy, Langevin.of(o.langevinStep()),
              ObjectiveSeeds.derive(tf, seed, WALKERS), 1);
          loss = MaximumLikelihood.contrastive(tf, energy, data, adv.negatives(), 0).loss();
          share = Tensors.mean(tf, rightOfZero(tf, adv.negatives()), 0);
          extra = adv.update();
        }
        case NCE -> {
          // the notes' D = e^-U_theta / (e^-U_theta + e^-U_mu): the noise "density" is e^-U_mu = Z_mu rho_mu
          NoiseContrastive.Noise noise = distribution(A, B, o.noiseMu()).scaled(logPartition(o.noiseMu()));
          loss = NoiseContrastive.loss(tf, energy, noise, data, o.batchSize(), ObjectiveSeeds.derive(tf, seed, NOISE))
              .loss();
        }
        default -> throw new IllegalStateException("unknown method " + method);
      }
      TrainingConfig cfg = new TrainingConfig(o.batchSize(), o.steps(),
          new OptimizerConfig(OptimizerConfig.Name.SGD, o.learningRate(), 0, 0, 1e-8), 0, TrainingConfig.Decay.NONE,
          o.learningRate(), 0, 0, 0, 0, false, false);
      Op apply = Optimizers.minimize(store, "optimizer", cfg, loss,
          List.of(store.get("bimodal/theta")), step).apply();
      Op stepOp = extra == null ? apply : tf.withControlDependencies(List.of(apply, extra)).noOp();
      Output<TFloating> after = store.readAfter("bimodal/theta", new long[0], VarStore.Kind.TRAINABLE,
          List.of(stepOp));
      s.runner().addTarget(store.initializer()).run();
      double[] trace = new double[o.steps() + 1];
      double[] shares = new double[o.steps()];
      trace[0] = o.theta0();
      try (Progress bar = Progress.start("bimodal " + method.id(), 0, o.steps(), "steps", o.progress())) {
        for (int t = 0; t < o.steps(); t++) {
          try (TInt64 seedT = TInt64.vectorOf(Seeds.mix(o.seed(), method.ordinal(), t), t);
              TInt64 stepT = TInt64.scalarOf(t)) {
            Session.Runner r = s.runner().feed(seed, seedT).feed(step, stepT).fetch(after);
            if (share != null) {
              r.fetch(share);
            }
            try (org.tensorflow.Result res = r.run()) {
              trace[t + 1] = HostTensors.toDoubles(res.get(0))[0];
              shares[t] = share == null ? Double.NaN : HostTensors.toDoubles(res.get(1))[0];
            }
          }
          if (!Double.isFinite(trace[t + 1])) {
            throw new IllegalStateException("bimodal " + method.id() + ": theta is " + trace[t + 1] + " after step "
                + (t + 1));
          }
          bar.stepTo(t + 1);
          bar.message(String.format(Locale.ROOT, "theta %.3f", trace[t + 1]));
        }
      }
      return judge(o, method, trace, shares);
    }
  }

  /** 1 where x &gt; 0 (the mode at b), else 0: [N]. */
  private static Operand<TFloating> rightOfZero(Ops tf, Operand<TFloating> x) {
    Operand<TFloating> xs = tf.reshape(x, tf.constant(new int[] {-1}));
    return tf.dtypes.cast(tf.math.greater(xs, Tensors.constant(tf, x.type(), 0.0)), x.type());
  }

  private static MethodResult judge(Options o, Method m, double[] trace, double[] shares) {
    int steps = trace.length - 1;
    int tail = Math.max(1, steps / 10);
    double fin = 0;
    for (int t = steps - tail + 1; t <= steps; t++) {
      fin += trace[t];
    }
    fin /= tail;
    double thetaStar = o.thetaStar();
    double theta0 = trace[0];
    return switch (m) {
      case ML -> new MethodResult(m, trace, shares, fin, thetaStar,
          "converges to theta* (d theta/dt = q_theta - q*)", Math.abs(fin - thetaStar) < 0.1);
      case SM -> {
        double moved = 0;
        for (double v : trace) {
          moved = Math.max(moved, Math.abs(v - theta0));
        }
        yield new MethodResult(m, trace, shares, fin, theta0,
            "no learning: theta stays at theta(0) (the score does not depend on theta)", moved < 0.05);
      }
      case PCD -> {
        // the walkers keep their initial share q_w, so theta(t) = theta(0) + lr t (q_w - q*); averaged over the tail
        double qw = shares.length > 0 ? shares[0] : share(theta0);
        double rate = o.learningRate() * (qw - o.targetShare());
        double meanT = steps - (tail - 1) / 2.0;
        double expected = theta0 + rate * meanT;
        double direction = Math.signum(share(theta0) - o.targetShare());
        boolean agrees = direction != 0 && (fin - thetaStar) * direction > 1
            && Math.abs(fin - expected) <= 0.2 * Math.abs(expected - theta0);
        String where = direction < 0 ? "-infinity (q(0) < q*)" : "+infinity (q(0) > q*)";
        yield new MethodResult(m, trace, shares, fin, expected,
            "mode collapse: walkers keep the share q(0), theta drifts linearly to " + where, agrees);
      }
      case NCE -> {
        double fixed = nceFixedPoint(thetaStar, o.noiseMu());
        boolean away = Math.abs(fixed - thetaStar) <= 0.6 || Math.abs(fin - thetaStar) > 0.5;
        yield new MethodResult(m, trace, shares, fin, fixed,
            "converges to theta* + log((1 + e^-theta*) / (1 + e^-mu)), not theta*",
            Math.abs(fin - fixed) < 0.1 && away);
      }
    };
  }

  // ------------------------------------------------------------------------------------------------ outputs

  private static String f(double v) {
    return String.format(Locale.ROOT, "%.3f", v);
  }

  private static String markdown(Options o, double thetaStar, double fixed, double notes, List<MethodResult> rs) {
    StringBuilder sb = new StringBuilder();
    sb.append("# Bimodal toy: training an EBM with a barrier\n\n");
    sb.append("U_theta(x) = -log(exp(-(x-a)^2/2) + exp(-theta) exp(-(x-b)^2/2)), a = ").append(f(A)).append(", b = ")
        .append(f(B)).append("; target q* = ").append(f(o.targetShare())).append(", theta* = ").append(f(thetaStar))
        .append("; theta(0) = ").append(f(o.theta0())).append(" (q(0) = ").append(f(share(o.theta0()))).append(").\n");
    sb.append("SGD, learning rate ").append(o.learningRate()).append(", ").append(o.steps()).append(" steps, batch ")
        .append(o.batchSize()).append(", seed ").append(o.seed()).append("; PCD: ").append(o.walkers())
        .append(" Langevin walkers, eta = ").append(o.langevinStep()).append("; NCE noise mu = ")
        .append(f(o.noiseMu())).append("; ML: ").append(o.proposals()).append(" rejection candidates per step.\n");
    sb.append("Final theta: mean over the last tenth of the steps.\n\n");
    sb.append("| method | theta(0) | final theta | expected | verdict |\n");
    sb.append("| --- | ---: | ---: | --- | --- |\n");
    for (MethodResult r : rs) {
      String expected = switch (r.method()) {
        case ML -> "theta* = " + f(r.expected());
        case SM -> "theta(0) = " + f(r.expected()) + " (no learning)";
        case PCD -> f(r.expected()) + " (linear drift, mode collapse)";
        case NCE -> f(r.expected()) + " (NCE fixed point)";
      };
      sb.append("| ").append(r.method().id()).append(" | ").append(f(r.theta0())).append(" | ")
          .append(f(r.finalTheta())).append(" | ").append(expected).append(" | ")
          .append(r.agrees() ? "as predicted: " : "NOT as predicted: ").append(r.expectation()).append(" |\n");
    }
    sb.append("\nNCE fixed point theta* + log((1 + e^-theta*)/(1 + e^-mu)) = ").append(f(fixed))
        .append("; the lecture notes' formula mu + log((1 + e^-theta*)/(1 + e^-mu)) = ").append(f(notes))
        .append(" is not a zero of their own flow (it holds only for mu = theta*).\n");
    return sb.toString();
  }

  private static String csv(List<MethodResult> rs) {
    StringBuilder sb = new StringBuilder("step");
    for (MethodResult r : rs) {
      sb.append(',').append(r.method().id());
    }
    sb.append('\n');
    int n = rs.get(0).theta().length;
    for (int t = 0; t < n; t++) {
      sb.append(t);
      for (MethodResult r : rs) {
        sb.append(',').append(r.theta()[t]);
      }
      sb.append('\n');
    }
    return sb.toString();
  }

  private static void plot(List<MethodResult> rs, double thetaStar, double fixed, Options o, Path png)
      throws IOException {
    List<Series> series = new ArrayList<>();
    int n = rs.get(0).theta().length;
    double[] x = new double[n];
    for (int t = 0; t < n; t++) {
      x[t] = t;
    }
    for (MethodResult r : rs) {
      series.add(Series.of(r.method().id(), x, r.theta()));
    }
    double[] ends = {0, n - 1};
    series.add(new Series("theta* = " + f(thetaStar), ends, new double[] {thetaStar, thetaStar}, Color.BLACK, 1.2f,
        0.8, true));
    if (o.methods().contains(Method.NCE)) {
      series.add(new Series("NCE fixed point = " + f(fixed), ends, new double[] {fixed, fixed}, Color.GRAY, 1.2f, 0.8,
          true));
    }
    Plots.lines(series, png, "Bimodal toy (a = -10, b = 10, q* = " + f(o.targetShare()) + "): theta(t) per method",
        "SGD step", "theta", false);
  }
}
