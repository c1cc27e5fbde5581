package dev.genzoo.graphs.nvae;

import dev.genzoo.graphs.nn.Initializer;
import dev.genzoo.graphs.nn.Tensors;
import dev.genzoo.graphs.nn.VarScope;
import dev.genzoo.graphs.nvae.Layers.Cell;
import dev.genzoo.graphs.nvae.Layers.Conv;
import dev.genzoo.graphs.nvae.Layers.Ctx;
import dev.genzoo.graphs.nvae.Layers.DecCombiner;
import dev.genzoo.graphs.nvae.Layers.EncCombiner;
import dev.genzoo.graphs.nvae.Layers.Resample;
import java.util.ArrayList;
import java.util.List;
import org.tensorflow.Operand;
import org.tensorflow.Output;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.TInt64;
import org.tensorflow.types.family.TFloating;

/**
 * NVAE's bidirectional hierarchy (Vahdat & Kautz 2020, figure 2; github NVlabs/NVAE model.py, AutoEncoder): a
 * bottom-up encoder (stem, pre-processing cells, the encoder tower of residual cells with a combiner before each latent
 * group but the last) and a top-down decoder (a learned input prior_ftr0, then per latent group: residual cells, the
 * prior p(z_l | z_{<l}) from the decoder state, the posterior q(z_l | x, z_{<l}) from the encoder state combined with
 * the decoder state, and a combiner that feeds z_l into the decoder state; then post-processing cells and the
 * image-conditional layer that gives p(x | z)'s parameters).
 *
 * <p>Variable names follow the upstream module structure so that a converter maps one to the other:
 * {@code nvae/stem}, {@code nvae/pre_process/cell_i}, {@code nvae/enc_tower/cell_i} (cells and combiners share upstream's
 * flat index i), {@code nvae/enc0}, {@code nvae/enc_sampler/sampler_i}, {@code nvae/dec_sampler/sampler_i},
 * {@code nvae/nf_cells/cell_i} (the flow cells, upstream nf_cells), {@code nvae/prior_ftr0},
 * {@code nvae/dec_tower/cell_i}, {@code nvae/post_process/cell_i}, {@code nvae/image_conditional}. Points ([d]) are 1 x 1 maps with d channels and every kernel 1 x 1.
 */
final class NvaeNetwork {
  private final NvaeConfig.Model m;
  private final Conv stem;
  private final List<Cell> preProcess = new ArrayList<>();
  /** The encoder tower in upstream order: a {@link Cell} or an {@link EncCombiner}. */
  private final List<Object> encTower = new ArrayList<>();
  private final Conv enc0;
  private final List<Conv> encSampler = new ArrayList<>();
  private final List<Conv> decSampler = new ArrayList<>();
  /** numFlows flow cells per group, in decoder order (upstream nf_cells). */
  private final List<ArFlow> flows = new ArrayList<>();
  private final Output<TFloating> priorFtr0;
  /** The decoder tower in upstream order: a {@link Cell} or a {@link DecCombiner}. */
  private final List<Object> decTower = new ArrayList<>();
  private final List<Cell> postProcess = new ArrayList<>();
  private final Conv imageConditional;
  private final long[] topShape;
  private final long[] groupShapes;
  private final int latent;
  private final long inChannels;
  private final long outChannels;

  NvaeNetwork(VarScope root, NvaeConfig.Model m) {
    this.m = m;
    this.latent = m.latentPerGroup();
    boolean points = !m.isImage();
    long k3 = points ? 1 : 3;
    long dw = points ? 1 : 5;
    long h = points ? 1 : m.dataShape()[0] + 2L * m.padding();
    long w = points ? 1 : m.dataShape()[1] + 2L * m.padding();
    this.inChannels = points ? m.dataShape()[0] : m.dataShape()[2];
    this.outChannels = switch (m.likelihood()) {
      case DMOL -> DiscMixLogistic.paramChannels(m.numMix(), (int) inChannels);
      case BERNOULLI -> inChannels;
      case GAUSSIAN -> 2 * inChannels;
    };
    long enc = m.channelsEnc();
    long dec = m.channelsDec();
    int[] groups = m.groups();
    int scales = m.latentScales();

    this.stem = new Conv(root.child("stem"), k3, inChannels, enc, 1, true, true, false);
    long mult = 1;
    VarScope pre = root.child("pre_process");
    for (int b = 0, i = 0; b < m.preprocessBlocks(); b++) {
      for (int c = 0; c < m.preprocessCells(); c++, i++) {
        boolean down = c == m.preprocessCells() - 1;
        preProcess.add(new Cell(pre.child("cell", i), enc * mult, down ? Resample.DOWN : Resample.NONE, m.useSe(),
            k3, 0, dw));
        if (down) {
          mult *= 2;
          h /= 2;
          w /= 2;
        }
      }
    }
    VarScope et = root.child("enc_tower");
    int i = 0;
    for (int s = 0; s < scales; s++) {
      for (int g = 0; g < groups[s]; g++) {
        for (int c = 0; c < m.cellsPerGroupEnc(); c++) {
          encTower.add(new Cell(et.child("cell", i++), enc * mult, Resample.NONE, m.useSe(), k3, 0, dw));
        }
        if (!(s == scales - 1 && g == groups[s] - 1)) {
          encTower.add(new EncCombiner(et.child("cell", i++), enc * mult, dec * mult));
        }
      }
      if (s < scales - 1) {
        encTower.add(new Cell(et.child("cell", i++), enc * mult, Resample.DOWN, m.useSe(), k3, 0, dw));
        mult *= 2;
        h /= 2;
        w /= 2;
      }
    }
    this.enc0 = new Conv(root.child("enc0").child("conv"), 1, enc * mult, enc * mult, 1, true, true, false);
    this.topShape = new long[] {h, w, dec * mult};
    this.groupShapes = new long[2 * totalGroups(groups)];
    long sm = mult;
    long sh = h;
    long sw = w;
    VarScope es = root.child("enc_sampler");
    VarScope ds = root.child("dec_sampler");
    for (int s = 0, gi = 0, di = 0; s < scales; s++) {
      for (int g = 0; g < groups[scales - s - 1]; g++, gi++) {
        encSampler.add(new Conv(es.child("sampler", gi), k3, enc * sm, 2L * latent, 1, true, true, false));
        for (int f = 0; f < m.numFlows(); f++) {
          flows.add(new ArFlow(root.child("nf_cells").child("cell", flows.size()), latent));
        }
        groupShapes[2 * gi] = sh;
        groupShapes[2 * gi + 1] = sw;
        if (!(s == 0 && g == 0)) {
          decSampler.add(new Conv(ds.child("sampler", di++).child("conv"), 1, dec * sm, 2L * latent, 1, true, true,
              false));
        }
      }
      sm /= 2;
      sh *= 2;
      sw *= 2;
    }
    // torch.rand: U(0, 1)
    this.priorFtr0 = root.variable("prior_ftr0", topShape,
        c -> c.tf().math.add(Initializer.uniform(0.5).create(c), c.constant(0.5)));
    VarScope dt = root.child("dec_tower");
    i = 0;
    for (int s = 0; s < scales; s++) {
      for (int g = 0; g < groups[scales - s - 1]; g++) {
        if (!(s == 0 && g == 0)) {
          for (int c = 0; c < m.cellsPerGroupDec(); c++) {
            decTower.add(new Cell(dt.child("cell", i++), dec * mult, Resample.NONE, m.useSe(), k3, 6, dw));
          }
        }
        decTower.add(new DecCombiner(dt.child("cell", i++), dec * mult, latent));
      }
      if (s < scales - 1) {
        decTower.add(new Cell(dt.child("cell", i++), dec * mult, Resample.UP, m.useSe(), k3, 6, dw));
        mult /= 2;
      }
    }
    VarScope post = root.child("post_process");
    for (int b = 0, j = 0; b < m.postprocessBlocks(); b++) {
      for (int c = 0; c < m.postprocessCells(); c++, j++) {
        boolean up = c == 0;
        postProcess.add(new Cell(post.child("cell", j), dec * mult, up ? Resample.UP : Resample.NONE, m.useSe(), k3,
            3, dw));
        if (up) {
          mult /= 2;
        }
      }
    }
    this.imageConditional = new Conv(root.child("image_conditional").child("conv"), k3, dec * mult, outChannels, 1,
        true, true, false);
  }

  private static int totalGroups(int[] groups) {
    int n = 0;
    for (int g : groups) {
      n += g;
    }
    return n;
  }

  /** Latent groups, in decoder order. */
  int groupCount() {
    return encSampler.size();
  }

  /** The latent map [h, w, latentPerGroup] of group {@code g} (decoder order). */
  long[] latentShape(int g) {
    return new long[] {groupShapes[2 * g], groupShapes[2 * g + 1], latent};
  }

  /** What one pass through encoder and decoder gives, per example [N] unless said. */
  record Posterior(Operand<TFloating> params, List<Operand<TFloating>> klPerGroup, Operand<TFloating> logQ,
      Operand<TFloating> logP) {}

  /**
   * The encoder and the decoder on {@code x} (model space: [N, H, W, C] in [-1, 1], padded; points [N, 1, 1, d]), each
   * z_l drawn from q with noise seeded by {@code seed} + [0, 1000 + l]: p(x | z)'s parameters [N, H, W, out], the KL
   * of each group (analytic given z_{<l}, summed over its map), and log q(z | x), log p(z) at the drawn z.
   */
  Posterior posterior(Ctx c, Operand<TFloating> x, Operand<TInt64> seed) {
    Ops tf = c.tf;
    Operand<TFloating> s = stem.call(c, x);
    for (Cell cell : preProcess) {
      s = cell.call(c, s);
    }
    List<EncCombiner> combiners = new ArrayList<>();
    List<Operand<TFloating>> combinerInputs = new ArrayList<>();
    for (Object o : encTower) {
      if (o instanceof EncCombiner e) {
        combiners.add(e);
        combinerInputs.add(s);
      } else {
        s = ((Cell) o).call(c, s);
      }
    }
    java.util.Collections.reverse(combiners);
    java.util.Collections.reverse(combinerInputs);
    Operand<TInt32> n = batchSize(tf, x);

    Operand<TFloating> ftr = tf.nn.elu(enc0.call(c, tf.nn.elu(s)));
    List<Operand<TFloating>> q0 = split(tf, encSampler.get(0).call(c, ftr));
    Normal q = Normal.of(tf, q0.get(0), q0.get(1));
    Operand<TFloating> z0 = q.sample(tf, noise(c, n, 0, seed));
    Operand<TFloating> zeros = tf.fill(tf.shape(z0), c.c(0));
    Normal p = Normal.of(tf, zeros, zeros);
    List<Operand<TFloating>> kls = new ArrayList<>();
    Operand<TFloating>[] terms = group(c, 0, q, p, z0);
    Operand<TFloating> z = terms[0];
    kls.add(terms[1]);
    Operand<TFloating> logQ = terms[2];
    Operand<TFloating> logP = terms[3];

    Operand<TFloating> d = topInput(tf, n);
    int g = 0;
    for (Object o : decTower) {
      if (o instanceof DecCombiner comb) {
        if (g > 0) {
          List<Operand<TFloating>> pp = split(tf, Layers.eluConv(c, decSampler.get(g - 1), d));
          Operand<TFloating> f = combiners.get(g - 1).call(c, combinerInputs.get(g - 1), d);
          List<Operand<TFloating>> qq = split(tf, encSampler.get(g).call(c, f));
          q = m.residualPosterior() ? Normal.residual(tf, pp.get(0), pp.get(1), qq.get(0), qq.get(1))
              : Normal.of(tf, qq.get(0), qq.get(1));
          p = Normal.of(tf, pp.get(0), pp.get(1));
          terms = group(c, g, q, p, q.sample(tf, noise(c, n, g, seed)));
          z = terms[0];
          kls.add(terms[1]);
          logQ = tf.math.add(logQ, terms[2]);
          logP = tf.math.add(logP, terms[3]);
        }
        d = comb.call(c, d, z);
        g++;
      } else {
        d = ((Cell) o).call(c, d);
      }
    }
    return new Posterior(decode(c, d), kls, logQ, logP);
  }

  /**
   * Group g's posterior draw z_0 through its flow cells: {z, KL, log q(z_0), log p(z)} per example. Without flows the
   * KL is analytic (upstream q.kl(p)); with them, as upstream, the one-draw estimate log q(z_0) - log p(z) (the flows
   * preserve volume, so log q of the flowed z is log q(z_0)).
   */
  @SuppressWarnings("unchecked")
  private Operand<TFloating>[] group(Ctx c, int g, Normal q, Normal p, Operand<TFloating> z0) {
    Ops tf = c.tf;
    Operand<TFloating> z = z0;
    for (int f = 0; f < m.numFlows(); f++) {
      z = flows.get(g * m.numFlows() + f).call(c, z);
    }
    Operand<TFloating> logQ = sumMap(tf, q.logP(tf, z0));
    Operand<TFloating> logP = sumMap(tf, p.logP(tf, z));
    Operand<TFloating> kl = m.numFlows() == 0 ? sumMap(tf, q.kl(tf, p)) : tf.math.sub(logQ, logP);
    return new Operand[] {z, kl, logQ, logP};
  }

  /**
   * Ancestral sampling from the prior at temperature {@code t} (every group's standard deviation times t, as
   * upstream's Normal(mu, log_sigma, t)): p(x | z)'s parameters for {@code n} samples.
   */
  Operand<TFloating> prior(Ctx c, Operand<TInt32> n, Operand<TFloating> t, Operand<TInt64> seed) {
    Ops tf = c.tf;
    Operand<TFloating> d = topInput(tf, n);
    int g = 0;
    Operand<TFloating> z = null;
    for (Object o : decTower) {
      if (o instanceof DecCombiner comb) {
        Normal p;
        if (g == 0) {
          Operand<TFloating> zeros = tf.fill(tf.concat(List.of(tf.reshape(n, tf.constant(new int[] {1})),
              tf.constant(toInt(latentShape(0)))), tf.constant(0)), c.c(0));
          p = Normal.of(tf, zeros, zeros);
        } else {
          List<Operand<TFloating>> pp = split(tf, Layers.eluConv(c, decSampler.get(g - 1), d));
          p = Normal.of(tf, pp.get(0), pp.get(1));
        }
        z = p.sample(tf, tf.math.mul(t, noise(c, n, g, seed)));
        d = comb.call(c, d, z);
        g++;
      } else {
        d = ((Cell) o).call(c, d);
      }
    }
    return decode(c, d);
  }

  private Operand<TFloating> decode(Ctx c, Operand<TFloating> d) {
    for (Cell cell : postProcess) {
      d = cell.call(c, d);
    }
    return Layers.eluConv(c, imageConditional, d);
  }

  private Operand<TFloating> topInput(Ops tf, Operand<TInt32> n) {
    Operand<TFloating> top = tf.expandDims(priorFtr0, tf.constant(0));
    return tf.tile(top, tf.concat(List.of(tf.reshape(n, tf.constant(new int[] {1})), tf.constant(new int[] {1, 1, 1})),
        tf.constant(0)));
  }

  private Operand<TFloating> noise(Ctx c, Operand<TInt32> n, int g, Operand<TInt64> seed) {
    Ops tf = c.tf;
    Operand<TInt32> shape = tf.concat(List.of(tf.reshape(n, tf.constant(new int[] {1})),
        tf.constant(toInt(latentShape(g)))), tf.constant(0));
    return tf.random.statelessRandomNormal(shape, tf.math.add(seed, tf.constant(new long[] {0, 1000L + g})), c.dt);
  }

  private static int[] toInt(long[] a) {
    int[] out = new int[a.length];
    for (int i = 0; i < a.length; i++) {
      out[i] = Math.toIntExact(a[i]);
    }
    return out;
  }

  static Operand<TInt32> batchSize(Ops tf, Operand<TFloating> x) {
    return tf.reshape(tf.stridedSlice(tf.shape(x), org.tensorflow.ndarray.index.Indices.slice(0, 1)),
        tf.constant(new int[0]));
  }

  /** Splits the last axis into (mu, log sigma) halves, as upstream's torch.chunk(param, 2, dim=1). */
  private static List<Operand<TFloating>> split(Ops tf, Operand<TFloating> param) {
    List<Operand<TFloating>> out = new ArrayList<>();
    for (Output<TFloating> o : tf.split(tf.constant(3), param, 2L).output()) {
      out.add(o);
    }
    return out;
  }

  private static Operand<TFloating> sumMap(Ops tf, Operand<TFloating> v) {
    return Tensors.sum(tf, v, 1, 2, 3);
  }
}
