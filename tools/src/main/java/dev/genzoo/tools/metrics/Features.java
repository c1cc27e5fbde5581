package dev.genzoo.tools.metrics;

import java.util.Arrays;
import java.util.List;

/**
 * What the reference Inception network gives for {@code n} images: the {@code pool_3} features (row-major
 * {@code [n, dim]}, 2048 wide for the real graph) and the softmax class probabilities (row-major {@code [n, classes]},
 * 1008 classes).
 *
 * @param pool3 the pool features, {@code n * dim} values
 * @param probs the class probabilities, {@code n * classes} values, each row summing to 1
 * @param n the number of images
 */
public record Features(float[] pool3, float[] probs, int n) {
  public Features {
    if (pool3 == null || probs == null) {
      throw new IllegalArgumentException("features need pool3 and probs arrays");
    }
    if (n < 0 || (n == 0 && (pool3.length != 0 || probs.length != 0))
        || (n > 0 && (pool3.length % n != 0 || probs.length % n != 0 || pool3.length == 0 || probs.length == 0))) {
      throw new IllegalArgumentException("features of " + n + " images cannot have " + pool3.length
          + " pool values and " + probs.length + " probabilities (whole rows per image)");
    }
  }

  /** The width of a pool feature row (2048 for the reference graph); 0 when there are no images. */
  public int dim() {
    return n == 0 ? 0 : pool3.length / n;
  }

  /** The number of classes (1008 for the reference graph); 0 when there are no images. */
  public int classes() {
    return n == 0 ? 0 : probs.length / n;
  }

  /** The features of images {@code [from, to)}. */
  public Features slice(int from, int to) {
    if (from < 0 || to > n || from > to) {
      throw new IndexOutOfBoundsException("slice [" + from + ", " + to + ") of " + n + " images");
    }
    return new Features(Arrays.copyOfRange(pool3, from * dim(), to * dim()),
        Arrays.copyOfRange(probs, from * classes(), to * classes()), to - from);
  }

  /** The features of several parts, one after the other; the parts must agree on dim and classes. */
  public static Features concat(List<Features> parts) {
    int n = 0;
    int dim = -1;
    int classes = -1;
    for (Features f : parts) {
      if (f.n() == 0) {
        continue;
      }
      if (dim >= 0 && (f.dim() != dim || f.classes() != classes)) {
        throw new IllegalArgumentException("cannot join features of width " + dim + " and " + classes
            + " classes with features of width " + f.dim() + " and " + f.classes() + " classes");
      }
      dim = f.dim();
      classes = f.classes();
      n += f.n();
    }
    if (n == 0) {
      return new Features(new float[0], new float[0], 0);
    }
    float[] pool = new float[Math.multiplyExact(n, dim)];
    float[] probs = new float[Math.multiplyExact(n, classes)];
    int at = 0;
    for (Features f : parts) {
      if (f.n() == 0) {
        continue;
      }
      System.arraycopy(f.pool3(), 0, pool, at * dim, f.pool3().length);
      System.arraycopy(f.probs(), 0, probs, at * classes, f.probs().length);
      at += f.n();
    }
    return new Features(pool, probs, n);
  }

  @Override
  public String toString() {
    return "Features[n=" + n + ", dim=" + dim() + ", classes=" + classes() + "]";
  }
}
