package dev.genzoo.tools.metrics;

/**
 * The Inception Score of Salimans et al. (2016), {@code exp(E_x KL(p(y|x) || p(y)))}, computed as the reference
 * implementation (improved-gan's {@code inception_score.py}) does: the {@code n} class-probability rows are cut, in
 * order, into {@code splits} parts (part {@code i} is rows {@code i n / splits} to {@code (i + 1) n / splits}, integer
 * division); for each part {@code p(y)} is the mean of its rows and the score is {@code exp} of the mean over its rows
 * of {@code sum_y p(y|x) (log p(y|x) - log p(y))}; the result is the mean and the (population) standard deviation of
 * the parts' scores. Everything is accumulated in double; a zero probability contributes 0 ({@code 0 log 0 = 0}),
 * where the reference's float32 NumPy would produce NaN.
 */
public final class InceptionScore {
  /** The reference's number of splits. */
  public static final int DEFAULT_SPLITS = 10;
  /** How far a row of probabilities may sum from 1. */
  private static final double SUM_TOLERANCE = 1e-3;

  private InceptionScore() {}

  /**
   * The score.
   *
   * @param mean the mean of the splits' scores
   * @param std their standard deviation (divided by the number of splits, like {@code numpy.std})
   * @param splitScores the score of each split, in order
   */
  public record Result(double mean, double std, double[] splitScores) {
    /** A result without per-split scores. */
    public Result(double mean, double std) {
      this(mean, std, new double[0]);
    }
  }

  /**
   * The Inception Score of {@code n} rows of {@code classes} probabilities ({@code probs} row-major, each row summing
   * to 1 within 1e-3).
   *
   * @throws IllegalArgumentException for fewer rows than splits, a wrong length, or a row that is not a
   *     probability distribution (NaN, negative, or not summing to 1), named by its index
   */
  public static Result compute(float[] probs, int n, int classes, int splits) {
    if (probs.length != (long) n * classes) {
      throw new IllegalArgumentException(probs.length + " probabilities are not " + n + " x " + classes);
    }
    double[] p = new double[probs.length];
    for (int i = 0; i < p.length; i++) {
      p[i] = probs[i];
    }
    return compute(p, n, classes, splits);
  }

  /** {@link #compute(float[], int, int, int)} for double probabilities. */
  public static Result compute(double[] probs, int n, int classes, int splits) {
    if (classes < 1) {
      throw new IllegalArgumentException("the number of classes must be at least 1, got " + classes);
    }
    if (splits < 1) {
      throw new IllegalArgumentException("the number of splits must be at least 1, got " + splits);
    }
    if (n < splits) {
      throw new IllegalArgumentException(n + " samples cannot be cut into " + splits + " splits");
    }
    if (probs.length != (long) n * classes) {
      throw new IllegalArgumentException(probs.length + " probabilities are not " + n + " x " + classes);
    }
    checkDistributions(probs, n, classes);
    double[] scores = new double[splits];
    double[] py = new double[classes];
    double[] logPy = new double[classes];
    for (int s = 0; s < splits; s++) {
      int lo = (int) ((long) s * n / splits);
      int hi = (int) ((long) (s + 1) * n / splits);
      java.util.Arrays.fill(py, 0);
      for (int i = lo; i < hi; i++) {
        int off = i * classes;
        for (int c = 0; c < classes; c++) {
          py[c] += probs[off + c];
        }
      }
      for (int c = 0; c < classes; c++) {
        py[c] /= hi - lo;
        logPy[c] = Math.log(py[c]);
      }
      double kl = 0;
      for (int i = lo; i < hi; i++) {
        int off = i * classes;
        double row = 0;
        for (int c = 0; c < classes; c++) {
          double q = probs[off + c];
          if (q > 0) {
            row += q * (Math.log(q) - logPy[c]);
          }
        }
        kl += row;
      }
      scores[s] = Math.exp(kl / (hi - lo));
    }
    double mean = 0;
    for (double v : scores) {
      mean += v;
    }
    mean /= splits;
    double var = 0;
    for (double v : scores) {
      var += (v - mean) * (v - mean);
    }
    return new Result(mean, Math.sqrt(var / splits), scores);
  }

  /** The Inception Score of {@code n} rows of {@code classes} logits, through {@link #softmax}. */
  public static Result computeFromLogits(float[] logits, int n, int classes, int splits) {
    return compute(softmax(logits, n, classes), n, classes, splits);
  }

  /**
   * The row-wise softmax of {@code n x classes} logits, in double (the row maximum subtracted first).
   *
   * @throws IllegalArgumentException for a wrong length or a NaN or infinite logit, named by row and class
   */
  public static double[] softmax(float[] logits, int n, int classes) {
    if (classes < 1 || logits.length != (long) n * classes) {
      throw new IllegalArgumentException(logits.length + " logits are not " + n + " x " + classes);
    }
    double[] out = new double[logits.length];
    for (int i = 0; i < n; i++) {
      int off = i * classes;
      double max = Double.NEGATIVE_INFINITY;
      for (int c = 0; c < classes; c++) {
        float v = logits[off + c];
        if (!Float.isFinite(v)) {
          throw new IllegalArgumentException("logit of sample " + i + ", class " + c + " is " + v);
        }
        max = Math.max(max, v);
      }
      double sum = 0;
      for (int c = 0; c < classes; c++) {
        double e = Math.exp(logits[off + c] - max);
        out[off + c] = e;
        sum += e;
      }
      for (int c = 0; c < classes; c++) {
        out[off + c] /= sum;
      }
    }
    return out;
  }

  private static void checkDistributions(double[] probs, int n, int classes) {
    for (int i = 0; i < n; i++) {
      int off = i * classes;
      double sum = 0;
      for (int c = 0; c < classes; c++) {
        double v = probs[off + c];
        if (!(v >= 0) || Double.isInfinite(v)) {
          throw new IllegalArgumentException("probability of sample " + i + ", class " + c + " is " + v
              + "; expected softmax outputs (pass logits to use the softmax)");
        }
        sum += v;
      }
      if (Math.abs(sum - 1) > SUM_TOLERANCE) {
        throw new IllegalArgumentException("the probabilities of sample " + i + " sum to " + sum + ", not 1; "
            + "expected softmax outputs (pass logits to use the softmax)");
      }
    }
  }
}
