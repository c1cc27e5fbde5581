package dev.genzoo.graphs.nvae;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.genzoo.data.NpyArray;
import dev.genzoo.data.Npz;
import dev.genzoo.graphs.nn.HostTensors;
import dev.genzoo.graphs.nn.Pass;
import dev.genzoo.graphs.nn.Tensors;
import dev.genzoo.graphs.nn.VarStore;
import java.net.URL;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Function;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.Tensor;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Op;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TFloat64;
import org.tensorflow.types.family.TFloating;

/**
 * NVAE's paired inverse autoregressive flow cell ({@link ArFlow}) against the math.
 *
 * <ul>
 *   <li>The masks equal those of arflow_make_masks.py, a numpy reading of upstream's create_conv_mask.</li>
 *   <li>On a 3 x 3 map with 4 latent channels, weights perturbed far from the initial near-identity, in float64: one
 *       cell's Jacobian (exact, by reverse-mode gradients of one output per batch copy) is unit lower triangular in the
 *       autoregressive order (raster position, then channel; the mirrored cell: reversed raster position, then
 *       channel), with non-zero entries below the diagonal both across positions and across channels at one position.
 *   </li>
 *   <li>The paired cell's Jacobian, checked against central differences, has log |det| = 0 (LU on the host) and is
 *       neither the identity nor triangular in either order.</li>
 *   <li>The flow's output equals a host computation of z - mu(z) per cell, mu = conv1x1(elu(elu(dwconv5x5(elu(
 *       conv3x3(z)))))) + bias, with the host's own weights exp(g) (V * M) / (|V * M| + 1e-5) and zero padding.</li>
 *   <li>A TRAIN-mode context collects the six masked, weight-normalised kernels as [out, fan-in] matrices, equal to
 *       exp(g) (V * M) / (|V * M| + 1e-5) computed on the host from the kernels and the reference masks; and
 *       log_weight_norm starts at log(|V * M| + 1e-2) (+ log 0.1 for mu).</li>
 * </ul>
 */
class ArFlowTest {
  @SuppressWarnings("unchecked")
  private static final Class<TFloating> F64 = (Class<TFloating>) (Class<?>) TFloat64.class;
  @SuppressWarnings("unchecked")
  private static final Class<TFloating> F32 = (Class<TFloating>) (Class<?>) TFloat32.class;

  private static final int H = 3;
  private static final int W = 3;
  private static final int C = 4;
  private static final int D = H * W * C;

  private static Map<String, NpyArray> masks;

  @BeforeAll
  static void loadFixture() throws Exception {
    URL url = ArFlowTest.class.getResource("/dev/genzoo/graphs/nvae/arflow_masks.npz");
    assertNotNull(url, "missing test resource arflow_masks.npz (run arflow_make_masks.py beside it)");
    masks = Npz.readAll(Path.of(url.toURI()));
  }

  private static String key(int k, int in, int groups, int out, boolean zeroDiag, boolean mirror) {
    return String.format("k%d_i%d_g%d_o%d_zd%d_mi%d", k, in, groups, out, zeroDiag ? 1 : 0, mirror ? 1 : 0);
  }

  // ------------------------------------------------------------------------------------------------ masks

  @Test
  void masksEqualTheNumpyReference() {
    double[] cases = masks.get("cases").asDoubles();
    int n = cases.length / 6;
    assertTrue(n >= 10, "the fixture has " + n + " cases");
    for (int j = 0; j < n; j++) {
      int k = (int) cases[6 * j];
      int in = (int) cases[6 * j + 1];
      int g = (int) cases[6 * j + 2];
      int out = (int) cases[6 * j + 3];
      boolean zd = cases[6 * j + 4] != 0;
      boolean mi = cases[6 * j + 5] != 0;
      NpyArray ref = masks.get(key(k, in, g, out, zd, mi));
      assertArrayEquals(new long[] {out, in / g, k, k}, ref.shape());
      assertArrayEquals(ref.asDoubles(), ArFlow.convMask(k, in, g, out, zd, mi), key(k, in, g, out, zd, mi));
    }
  }

  // ------------------------------------------------------------------------------------------------ Jacobians

  /** A graph holding one flow (or one cell) under {@code flow/}, initialised, then perturbed. */
  private static final class Built implements AutoCloseable {
    final Graph graph = new Graph();
    final VarStore store;
    final Ops tf;
    final Session session;

    Built(Class<TFloating> dt) {
      store = new VarStore(graph, dt, 11);
      tf = store.tf();
      session = new Session(graph);
    }

    void init() {
      session.runner().addTarget(store.initializer()).run().close();
    }

    /**
     * Moves the weights far from their initial values: kernels and biases get N(0, 0.3^2) added, log_weight_norm is
     * set to 0.4 + N(0, 0.3^2) (mu's starts 10 times smaller, so the cell starts near the identity).
     */
    void perturb(long seed) {
      List<Op> ops = new ArrayList<>();
      int i = 0;
      for (VarStore.Var v : store.ofKind(VarStore.Kind.TRAINABLE)) {
        Operand<TFloating> noise = tf.math.mul(tf.random.statelessRandomNormal(tf.constant(v.shape()),
            tf.constant(new long[] {seed, i++}), store.dtype()), Tensors.constant(tf, store.dtype(), 0.3));
        if (v.name().endsWith("log_weight_norm")) {
          ops.add(tf.assign(v.<TFloating>as(), tf.math.add(noise, Tensors.constant(tf, store.dtype(), 0.4))));
        } else {
          ops.add(tf.assignAdd(v.<TFloating>as(), noise));
        }
      }
      session.runner().addTarget(tf.withControlDependencies(ops).noOp()).run().close();
    }

    double[][] fetch(List<Operand<TFloating>> outs) {
      Session.Runner r = session.runner();
      outs.forEach(r::fetch);
      try (Result res = r.run()) {
        double[][] v = new double[outs.size()][];
        for (int j = 0; j < outs.size(); j++) {
          v[j] = HostTensors.toDoubles((Tensor) res.get(j));
        }
        return v;
      }
    }

    @Override
    public void close() {
      session.close();
      graph.close();
    }
  }

  private static double[] randomZ(long seed) {
    Random r = new Random(seed);
    double[] z = new double[D];
    for (int i = 0; i < D; i++) {
      z[i] = r.nextGaussian();
    }
    return z;
  }

  /**
   * The exact Jacobian d f(z)_i / d z_j of a map on [1, H, W, C] at z (indices flattened NHWC: raster position, then
   * channel): f is applied to D copies of z, and the gradient of sum_d f(copy d)_d gives row d in copy d.
   */
  private static double[][] jacobian(Built b, Function<Operand<TFloating>, Operand<TFloating>> f, double[] z) {
    Ops tf = b.tf;
    double[] copies = new double[D * D];
    double[] select = new double[D * D];
    for (int d = 0; d < D; d++) {
      System.arraycopy(z, 0, copies, d * D, D);
      select[d * D + d] = 1;
    }
    Shape shape = Shape.of(D, H, W, C);
    Operand<TFloating> zs = Tensors.constant(tf, b.store.dtype(), copies, shape);
    Operand<TFloating> y = f.apply(zs);
    Operand<TFloating> picked = tf.sum(tf.math.mul(y, Tensors.constant(tf, b.store.dtype(), select, shape)),
        tf.constant(new int[] {0, 1, 2, 3}));
    @SuppressWarnings("unchecked")
    Operand<TFloating> grad = (Operand<TFloating>) (Operand<?>) tf.gradients(picked, List.of(zs)).dy(0);
    double[] g = b.fetch(List.of(grad))[0];
    double[][] jac = new double[D][D];
    for (int d = 0; d < D; d++) {
      System.arraycopy(g, d * D, jac[d], 0, D);
    }
    return jac;
  }

  /** The Jacobian by central differences with step eps. */
  private static double[][] jacobianFd(Built b, Function<Operand<TFloating>, Operand<TFloating>> f, double[] z,
      double eps) {
    double[] batch = new double[2 * D * D];
    for (int j = 0; j < D; j++) {
      System.arraycopy(z, 0, batch, (2 * j) * D, D);
      System.arraycopy(z, 0, batch, (2 * j + 1) * D, D);
      batch[(2 * j) * D + j] += eps;
      batch[(2 * j + 1) * D + j] -= eps;
    }
    Operand<TFloating> zs = Tensors.constant(b.tf, b.store.dtype(), batch, Shape.of(2 * D, H, W, C));
    double[] y = b.fetch(List.of(f.apply(zs)))[0];
    double[][] jac = new double[D][D];
    for (int j = 0; j < D; j++) {
      for (int i = 0; i < D; i++) {
        jac[i][j] = (y[(2 * j) * D + i] - y[(2 * j + 1) * D + i]) / (2 * eps);
      }
    }
    return jac;
  }

  /** The autoregressive rank of flat index i: raster position then channel, or reversed raster position then channel. */
  private static int rank(int i, boolean mirror) {
    int pos = i / C;
    int ch = i % C;
    return (mirror ? H * W - 1 - pos : pos) * C + ch;
  }

  private static Layers.Ctx evalCtx(Built b) {
    return new Layers.Ctx(b.tf, b.store.dtype(), Layers.Mode.EVAL, Pass.inference(), null);
  }

  /**
   * Checks that J is unit triangular in the order, and that outputs depend on earlier positions and on lower channels
   * at their own position by more than 0.05 somewhere.
   */
  private static void assertUnitTriangular(double[][] jac, boolean mirror, String what) {
    double maxAcrossPositions = 0;
    double maxWithinPosition = 0;
    for (int i = 0; i < D; i++) {
      for (int j = 0; j < D; j++) {
        int ri = rank(i, mirror);
        int rj = rank(j, mirror);
        if (ri == rj) {
          assertEquals(1.0, jac[i][j], 1e-12, what + ": diagonal entry " + i);
        } else if (rj > ri) {
          assertEquals(0.0, jac[i][j], 1e-12, what + ": output " + i + " depends on later input " + j);
        } else if (i / C == j / C) {
          maxWithinPosition = Math.max(maxWithinPosition, Math.abs(jac[i][j]));
        } else {
          maxAcrossPositions = Math.max(maxAcrossPositions, Math.abs(jac[i][j]));
        }
      }
    }
    // far from the identity: earlier positions and lower channels at the same position both matter
    assertTrue(maxAcrossPositions > 0.05, what + ": largest dependence on earlier positions " + maxAcrossPositions);
    assertTrue(maxWithinPosition > 0.05, what + ": largest dependence on lower channels " + maxWithinPosition);
  }

  @Test
  void eachCellIsUnitTriangularInItsAutoregressiveOrder() {
    for (boolean mirror : new boolean[] {false, true}) {
      try (Built b = new Built(F64)) {
        ArFlow.Cell cell = new ArFlow.Cell(b.store.root().child("flow"), C, mirror);
        b.init();
        b.perturb(5);
        double[][] jac = jacobian(b, z -> cell.call(evalCtx(b), z), randomZ(3));
        assertUnitTriangular(jac, mirror, mirror ? "mirrored cell" : "cell");
      }
    }
  }

  @Test
  void pairedCellPreservesVolumeAndIsNotTheIdentity() {
    try (Built b = new Built(F64)) {
      ArFlow flow = new ArFlow(b.store.root().child("flow"), C);
      b.init();
      b.perturb(7);
      double[] z = randomZ(4);
      double[][] jac = jacobian(b, x -> flow.call(evalCtx(b), x), z);
      double[][] fd = jacobianFd(b, x -> flow.call(evalCtx(b), x), z, 1e-5);
      for (int i = 0; i < D; i++) {
        for (int j = 0; j < D; j++) {
          assertEquals(fd[i][j], jac[i][j], 1e-7, "d y_" + i + " / d z_" + j + " against central differences");
        }
      }
      assertEquals(0.0, logAbsDet(jac), 1e-9, "log |det| of the paired cell's Jacobian");
      double offIdentity = 0;
      double upper = 0;
      double lower = 0;
      for (int i = 0; i < D; i++) {
        for (int j = 0; j < D; j++) {
          offIdentity = Math.max(offIdentity, Math.abs(jac[i][j] - (i == j ? 1 : 0)));
          if (j > i) {
            upper = Math.max(upper, Math.abs(jac[i][j]));
          } else if (j < i) {
            lower = Math.max(lower, Math.abs(jac[i][j]));
          }
        }
      }
      assertTrue(offIdentity > 0.1, "the flow is close to the identity: max |J - I| = " + offIdentity);
      // the two cells run in opposite spatial orders: the composition is triangular in neither
      assertTrue(upper > 0.01 && lower > 0.01, "paired Jacobian upper " + upper + ", lower " + lower);
    }
  }

  /** log |det A| by LU with partial pivoting. */
  private static double logAbsDet(double[][] a) {
    int n = a.length;
    double[][] m = new double[n][];
    for (int i = 0; i < n; i++) {
      m[i] = a[i].clone();
    }
    double logDet = 0;
    for (int col = 0; col < n; col++) {
      int p = col;
      for (int r = col + 1; r < n; r++) {
        if (Math.abs(m[r][col]) > Math.abs(m[p][col])) {
          p = r;
        }
      }
      double[] t = m[p];
      m[p] = m[col];
      m[col] = t;
      double piv = m[col][col];
      assertTrue(piv != 0, "singular Jacobian");
      logDet += Math.log(Math.abs(piv));
      for (int r = col + 1; r < n; r++) {
        double f = m[r][col] / piv;
        if (f != 0) {
          for (int c = col; c < n; c++) {
            m[r][c] -= f * m[col][c];
          }
        }
      }
    }
    return logDet;
  }

  // ------------------------------------------------------------------------------------------------ kernels

  /** One masked convolution of the flow: its scope, its reference mask and its layout. */
  private record ConvCase(String scope, int k, int in, int groups, int out, boolean zeroDiag, boolean mirror,
      double initCoeff, boolean hasBias) {
    boolean depthwise() {
      return groups != 1;
    }

    long[] kernelShape() {
      return depthwise() ? new long[] {k, k, in, 1} : new long[] {k, k, in, out};
    }
  }

  private static List<ConvCase> convCases() {
    int hidden = 6 * C;
    List<ConvCase> cases = new ArrayList<>();
    for (String cell : List.of("cell1", "cell2")) {
      boolean mirror = cell.equals("cell2");
      cases.add(new ConvCase("flow/" + cell + "/convz_0", 3, C, 1, hidden, true, mirror, 1.0, false));
      cases.add(new ConvCase("flow/" + cell + "/convz_2", 5, hidden, hidden, hidden, false, mirror, 1.0, false));
      cases.add(new ConvCase("flow/" + cell + "/mu/conv_0", 1, hidden, 1, C, false, mirror, 0.1, true));
    }
    return cases;
  }

  /** V * M as [out][fan-in] rows in (ky, kx, in) order, from an HWIO (or [k, k, C, 1]) kernel and a PyTorch mask. */
  private static double[][] maskedRows(ConvCase cc, double[] kernel) {
    double[] mask = masks.get(key(cc.k, cc.in, cc.groups, cc.out, cc.zeroDiag, cc.mirror)).asDoubles();
    int inPg = cc.in / cc.groups;
    double[][] rows = new double[cc.out][cc.k * cc.k * inPg];
    for (int o = 0; o < cc.out; o++) {
      for (int y = 0; y < cc.k; y++) {
        for (int x = 0; x < cc.k; x++) {
          for (int i = 0; i < inPg; i++) {
            double v = cc.depthwise()
                ? kernel[((y * cc.k + x) * cc.out + o) * inPg + i]
                : kernel[((y * cc.k + x) * inPg + i) * cc.out + o];
            double m = mask[((o * inPg + i) * cc.k + y) * cc.k + x];
            rows[o][(y * cc.k + x) * inPg + i] = v * m;
          }
        }
      }
    }
    return rows;
  }

  private static double norm(double[] row) {
    double s = 0;
    for (double v : row) {
      s += v * v;
    }
    return Math.sqrt(s);
  }

  @Test
  void logWeightNormStartsAtTheMaskedKernelNorm() {
    try (Built b = new Built(F64)) {
      new ArFlow(b.store.root().child("flow"), C);
      b.init();
      for (ConvCase cc : convCases()) {
        double[][] v = b.fetch(List.of(b.store.get(cc.scope + "/kernel").value(),
            b.store.get(cc.scope + "/log_weight_norm").value()));
        double[][] rows = maskedRows(cc, v[0]);
        for (int o = 0; o < cc.out; o++) {
          double expected = Math.log(norm(rows[o]) + 1e-2) + Math.log(cc.initCoeff);
          assertEquals(expected, v[1][o], 1e-12, cc.scope + " log_weight_norm[" + o + "]");
        }
      }
    }
  }

  @Test
  void trainModeCollectsTheMaskedNormalisedKernels() {
    for (Class<TFloating> dt : List.of(F64, F32)) {
      double tol = dt == F64 ? 1e-12 : 2e-6;
      try (Built b = new Built(dt)) {
        ArFlow flow = new ArFlow(b.store.root().child("flow"), C);
        Layers.Ctx ctx = new Layers.Ctx(b.tf, dt, Layers.Mode.TRAIN, Pass.training(), null);
        Operand<TFloating> zs = Tensors.constant(b.tf, dt, randomZ(9), Shape.of(1, H, W, C));
        Operand<TFloating> y = flow.call(ctx, zs);
        b.init();
        b.perturb(13);
        List<ConvCase> cases = convCases();
        assertEquals(cases.size(), ctx.convMatrices.size(), "collected matrices");
        // the variables: names, shapes, and no other trainable variable (the masks are constants)
        int expectedVars = 0;
        for (ConvCase cc : cases) {
          assertArrayEquals(cc.kernelShape(), b.store.get(cc.scope + "/kernel").shape().asArray(), cc.scope);
          assertArrayEquals(new long[] {cc.out}, b.store.get(cc.scope + "/log_weight_norm").shape().asArray());
          assertEquals(cc.hasBias, b.store.contains(cc.scope + "/bias"), cc.scope + "/bias");
          expectedVars += cc.hasBias ? 3 : 2;
        }
        assertEquals(expectedVars, b.store.ofKind(VarStore.Kind.TRAINABLE).size());
        assertEquals(expectedVars, b.store.all().size());
        List<Operand<TFloating>> fetches = new ArrayList<>(ctx.convMatrices);
        for (ConvCase cc : cases) {
          fetches.add(b.store.get(cc.scope + "/kernel").value());
          fetches.add(b.store.get(cc.scope + "/log_weight_norm").value());
        }
        fetches.add(y);
        double[][] v = b.fetch(fetches);
        for (int j = 0; j < cases.size(); j++) {
          ConvCase cc = cases.get(j);
          assertArrayEquals(new long[] {cc.out, (long) cc.k * cc.k * (cc.in / cc.groups)},
              ctx.convMatrices.get(j).shape().asArray(), cc.scope + " matrix shape");
          double[][] rows = maskedRows(cc, v[cases.size() + 2 * j]);
          double[] g = v[cases.size() + 2 * j + 1];
          int width = rows[0].length;
          for (int o = 0; o < cc.out; o++) {
            double scale = Math.exp(g[o]) / (norm(rows[o]) + 1e-5);
            for (int c = 0; c < width; c++) {
              assertEquals(scale * rows[o][c], v[j][o * width + c], tol * Math.max(1, Math.abs(scale)),
                  cc.scope + " W[" + o + "][" + c + "]");
            }
          }
        }
        for (double x : v[v.length - 1]) {
          assertTrue(Double.isFinite(x), "flowed z is finite");
        }
      }
    }
  }

  /** A convolution on the host: x [H][W][in] with [out][(ky, kx, i)] rows, zero padding k / 2. */
  private static double[][][] hostConv(double[][][] x, double[][] rows, int k, boolean depthwise, double[] bias) {
    int out = rows.length;
    int inPg = rows[0].length / (k * k);
    int m = k / 2;
    double[][][] y = new double[H][W][out];
    for (int r = 0; r < H; r++) {
      for (int c = 0; c < W; c++) {
        for (int o = 0; o < out; o++) {
          double s = bias == null ? 0 : bias[o];
          for (int ky = 0; ky < k; ky++) {
            for (int kx = 0; kx < k; kx++) {
              int rr = r + ky - m;
              int cc = c + kx - m;
              if (rr < 0 || rr >= H || cc < 0 || cc >= W) {
                continue;
              }
              for (int i = 0; i < inPg; i++) {
                s += x[rr][cc][depthwise ? o : i] * rows[o][(ky * k + kx) * inPg + i];
              }
            }
          }
          y[r][c][o] = s;
        }
      }
    }
    return y;
  }

  private static double[][][] hostElu(double[][][] x) {
    double[][][] y = new double[H][W][];
    for (int r = 0; r < H; r++) {
      for (int c = 0; c < W; c++) {
        y[r][c] = x[r][c].clone();
        for (int o = 0; o < y[r][c].length; o++) {
          double v = y[r][c][o];
          y[r][c][o] = v > 0 ? v : Math.expm1(v);
        }
      }
    }
    return y;
  }

  @Test
  void forwardMatchesAHostComputation() {
    try (Built b = new Built(F64)) {
      ArFlow flow = new ArFlow(b.store.root().child("flow"), C);
      double[] z = randomZ(21);
      Operand<TFloating> y = flow.call(evalCtx(b), Tensors.constant(b.tf, F64, z, Shape.of(1, H, W, C)));
      b.init();
      b.perturb(17);
      List<ConvCase> cases = convCases();
      List<Operand<TFloating>> fetches = new ArrayList<>();
      fetches.add(y);
      for (ConvCase cc : cases) {
        fetches.add(b.store.get(cc.scope + "/kernel").value());
        fetches.add(b.store.get(cc.scope + "/log_weight_norm").value());
        if (cc.hasBias) {
          fetches.add(b.store.get(cc.scope + "/bias").value());
        }
      }
      double[][] v = b.fetch(fetches);
      // the host's weights, per conv case
      List<double[][]> weights = new ArrayList<>();
      List<double[]> biases = new ArrayList<>();
      int at = 1;
      for (ConvCase cc : cases) {
        double[][] rows = maskedRows(cc, v[at++]);
        double[] g = v[at++];
        for (int o = 0; o < cc.out; o++) {
          double scale = Math.exp(g[o]) / (norm(rows[o]) + 1e-5);
          for (int c = 0; c < rows[o].length; c++) {
            rows[o][c] *= scale;
          }
        }
        weights.add(rows);
        biases.add(cc.hasBias ? v[at++] : null);
      }
      double[][][] x = new double[H][W][C];
      for (int i = 0; i < D; i++) {
        x[i / C / W][(i / C) % W][i % C] = z[i];
      }
      for (int cell = 0; cell < 2; cell++) {
        int j = 3 * cell;
        double[][][] s = hostElu(hostConv(x, weights.get(j), 3, false, null));
        s = hostElu(hostConv(s, weights.get(j + 1), 5, true, null));
        double[][][] mu = hostConv(hostElu(s), weights.get(j + 2), 1, false, biases.get(j + 2));
        for (int r = 0; r < H; r++) {
          for (int c = 0; c < W; c++) {
            for (int o = 0; o < C; o++) {
              x[r][c][o] -= mu[r][c][o];
            }
          }
        }
      }
      double moved = 0;
      for (int i = 0; i < D; i++) {
        double expected = x[i / C / W][(i / C) % W][i % C];
        assertEquals(expected, v[0][i], 1e-10, "flowed z[" + i + "]");
        moved = Math.max(moved, Math.abs(expected - z[i]));
      }
      assertTrue(moved > 0.1, "the flow hardly moves z: " + moved);
    }
  }
}
