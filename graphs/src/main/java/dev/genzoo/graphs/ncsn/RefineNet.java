package dev.genzoo.graphs.ncsn;

import dev.genzoo.graphs.nn.Tensors;
import dev.genzoo.graphs.nn.VarScope;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import org.tensorflow.Operand;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.family.TFloating;

/**
 * The score networks of NCSN: a dilated RefineNet (Lin et al. 2017) built exactly as the authors' code, so that
 * their PyTorch checkpoints map onto it name by name.
 *
 * <ul>
 *   <li>{@link Variant#V1_CONDITIONAL}: Song &amp; Ermon 2019, "Generative Modeling by Estimating Gradients of the
 *       Data Distribution" (NeurIPS), {@code CondRefineNetDilated} of ermongroup/ncsn. Every normalisation is a
 *       {@link ConditionalInstanceNormPlus} on the noise-level index i; the output is the score s(x, sigma_i).</li>
 *   <li>{@link Variant#V2}: Song &amp; Ermon 2020, "Improved Techniques for Training Score-Based Generative Models"
 *       (NeurIPS), {@code NCSNv2} of ermongroup/ncsnv2, the CIFAR-10 / CelebA network. Unconditional
 *       {@link InstanceNormPlus} in the residual blocks and at the end, no normalisation in the RefineNet blocks, max
 *       instead of average pooling in CRP. {@link #call} returns the raw network output f(x); the score is
 *       f(x) / sigma (technique 3 of the paper), which the caller divides.</li>
 * </ul>
 *
 * <p>Both map images x in [0, 1] to 2x - 1 first (upstream's {@code logit_transform = rescaled = false}), then:
 * {@code begin_conv} (3x3, ngf) -> {@code res1} (2 blocks, ngf, H x W) -> {@code res2} (ngf -> 2 ngf, the first
 * block halves the resolution with a mean pool) -> {@code res3} (2 ngf, dilation 2) -> {@code res4} (2 ngf,
 * dilation 4) -> RefineNet blocks {@code refine1} ([res4]) ... {@code refine4} ([res1, refine3], 3 output units) ->
 * {@code normalizer} -> ELU -> {@code end_conv} (3x3, C). Although upstream builds the first blocks of res3 and res4
 * with {@code resample='down'}, dilated blocks never downsample, so res2 to res4 and refine1 to refine3 all run at
 * H/2 x W/2 (16 x 16 for CIFAR-10); only refine4 upsamples (bilinear, aligned corners). Any even H and W work
 * (upstream's ConvMeanPool fails on odd sizes); 28 x 28 needs nothing special, because upstream's
 * {@code adjust_padding} for 28 x 28 is set on res4, whose dilated block ignores it.
 *
 * <p><b>Variables.</b> Under {@code scope} (genzoo models pass {@code ncsn}), named after the upstream module path by
 * these rules: {@code .} becomes {@code /}; a ModuleList index i after list L becomes {@code L/<item>_i}, item
 * {@code block} for {@code res1..res4} and {@code adapt_convs}, {@code conv} for {@code convs}, {@code norm} for
 * {@code norms}; an RCU attribute {@code i_j_conv} / {@code i_j_norm} becomes {@code conv_i_j} / {@code norm_i_j}
 * (numbers kept as upstream: list indices from 0, RCU units and stages from 1); a convolution's {@code weight} [O, I,
 * kh, kw] becomes {@code kernel} [kh, kw, I, O] (OIHW -> HWIO); a conditional norm's {@code embed.weight} becomes
 * {@code embedding}, same [L, 3C] layout (gamma | alpha | beta); {@code bias}, {@code alpha}, {@code gamma},
 * {@code beta} keep their names. For example {@code res1.0.normalize1.alpha} -> {@code res1/block_0/normalize1/alpha},
 * {@code res2.0.conv2.conv.weight} -> {@code res2/block_0/conv2/conv/kernel},
 * {@code refine4.adapt_convs.1.2_1_norm.embed.weight} -> {@code refine4/adapt_convs/block_1/norm_2_1/embedding},
 * {@code refine2.crp.convs.0.weight} -> {@code refine2/crp/convs/conv_0/kernel}. The parameter counts equal
 * upstream's (at ngf 128 on 32 x 32 x 3: 29,694,083 for V2 and 30,117,635 for V1 with L = 10). Initialisation
 * follows PyTorch's defaults and upstream's norm initialisers.
 *
 * <p>With TensorFlow 2.16's oneDNN optimisations (on by default on x86 CPUs) a V2 session logs
 * {@code remapper failed: ... Mutation::Apply error: fanout ... exist for missing node ...}: grappler's oneDNN
 * remapper trips over a residual sum that feeds an ELU directly (the un-normalised RCU and CRP units) and also other
 * ops, and skips that pass. The results are unaffected; {@code TF_ENABLE_ONEDNN_OPTS=0} silences it.
 */
public final class RefineNet {
  /** Which paper's network. */
  public enum Variant {
    /** NCSN (2019): conditional InstanceNorm++ on the noise-level index everywhere; outputs the score. */
    V1_CONDITIONAL,
    /** NCSNv2 (2020): unconditional; outputs the network output, which the caller divides by sigma. */
    V2
  }

  private final Variant variant;
  private final long[] imageShape;
  private final int ngf;
  private final NcsnConv beginConv;
  private final List<ResidualBlock> res1 = new ArrayList<>();
  private final List<ResidualBlock> res2 = new ArrayList<>();
  private final List<ResidualBlock> res3 = new ArrayList<>();
  private final List<ResidualBlock> res4 = new ArrayList<>();
  private final RefineBlock refine1;
  private final RefineBlock refine2;
  private final RefineBlock refine3;
  private final RefineBlock refine4;
  private final NormLayer normalizer;
  private final NcsnConv endConv;

  /**
   * Creates the variables in {@code scope}.
   *
   * @param imageShape [H, W, C]; H and W even
   * @param ngf the base width (128 for CIFAR-10); at least 2
   * @param numClasses the number of noise levels L that V1 is conditioned on; ignored by V2
   */
  public RefineNet(VarScope scope, long[] imageShape, int ngf, Variant variant, int numClasses) {
    this.variant = Objects.requireNonNull(variant, "variant");
    if (imageShape == null || imageShape.length != 3 || imageShape[0] < 2 || imageShape[1] < 2 || imageShape[2] < 1) {
      throw new IllegalArgumentException("imageShape must be [H, W, C] with H, W >= 2 and C >= 1, got "
          + Arrays.toString(imageShape));
    }
    if (imageShape[0] % 2 != 0 || imageShape[1] % 2 != 0) {
      throw new IllegalArgumentException("imageShape " + Arrays.toString(imageShape) + ": the NCSN RefineNet needs "
          + "an even height and width (res2 halves them with a 2x2 mean pool, as upstream's ConvMeanPool)");
    }
    if (ngf < 2) {
      throw new IllegalArgumentException("ngf must be at least 2 (InstanceNorm++ needs two channels), got " + ngf);
    }
    if (variant == Variant.V1_CONDITIONAL && numClasses < 1) {
      throw new IllegalArgumentException("numClasses (the number of noise levels L) must be at least 1 for "
          + variant + ", got " + numClasses);
    }
    this.imageShape = imageShape.clone();
    this.ngf = ngf;
    long c = imageShape[2];
    long f = ngf;
    long[] full = {imageShape[0], imageShape[1]};
    long[] half = {imageShape[0] / 2, imageShape[1] / 2};
    NormLayer.Factory norms = variant == Variant.V1_CONDITIONAL
        ? NormLayer.conditionalInstanceNormPlus(numClasses)
        : NormLayer.instanceNormPlus();
    NormLayer.Factory refineNorms = variant == Variant.V1_CONDITIONAL ? norms : null;

    this.beginConv = new NcsnConv(scope.child("begin_conv"), 3, c, f, 1, true);
    this.normalizer = norms.create(scope.child("normalizer"), f);
    this.endConv = new NcsnConv(scope.child("end_conv"), 3, f, c, 1, true);

    VarScope r1 = scope.child("res1");
    res1.add(new ResidualBlock(r1.child("block", 0), norms, f, f, false, 0));
    res1.add(new ResidualBlock(r1.child("block", 1), norms, f, f, false, 0));
    VarScope r2 = scope.child("res2");
    res2.add(new ResidualBlock(r2.child("block", 0), norms, f, 2 * f, true, 0));
    res2.add(new ResidualBlock(r2.child("block", 1), norms, 2 * f, 2 * f, false, 0));
    VarScope r3 = scope.child("res3");
    res3.add(new ResidualBlock(r3.child("block", 0), norms, 2 * f, 2 * f, true, 2));
    res3.add(new ResidualBlock(r3.child("block", 1), norms, 2 * f, 2 * f, false, 2));
    VarScope r4 = scope.child("res4");
    res4.add(new ResidualBlock(r4.child("block", 0), norms, 2 * f, 2 * f, true, 4));
    res4.add(new ResidualBlock(r4.child("block", 1), norms, 2 * f, 2 * f, false, 4));

    this.refine1 = new RefineBlock(scope.child("refine1"), refineNorms, new long[] {2 * f}, 2 * f, true, false,
        new long[][] {half}, half);
    this.refine2 = new RefineBlock(scope.child("refine2"), refineNorms, new long[] {2 * f, 2 * f}, 2 * f, false,
        false, new long[][] {half, half}, half);
    this.refine3 = new RefineBlock(scope.child("refine3"), refineNorms, new long[] {2 * f, 2 * f}, f, false, false,
        new long[][] {half, half}, half);
    this.refine4 = new RefineBlock(scope.child("refine4"), refineNorms, new long[] {f, f}, f, false, true,
        new long[][] {full, half}, full);
  }

  /**
   * @param x images [N, H, W, C] in [0, 1]
   * @param sigmaIndex the noise-level index of each image [N] for V1; ignored by V2 (pass null)
   * @return V1: the score [N, H, W, C]; V2: the network output [N, H, W, C], to be divided by sigma
   */
  public Operand<TFloating> call(Ops tf, Operand<TFloating> x, Operand<TInt32> sigmaIndex) {
    if (variant == Variant.V1_CONDITIONAL && sigmaIndex == null) {
      throw new IllegalArgumentException("the NCSN V1 network is conditioned on the noise level: sigmaIndex is null");
    }
    checkInputShape(x.shape());
    Operand<TInt32> y = variant == Variant.V1_CONDITIONAL ? sigmaIndex : null;
    Class<TFloating> dt = x.type();
    Operand<TFloating> h = tf.math.sub(tf.math.mul(Tensors.constant(tf, dt, 2.0), x), Tensors.constant(tf, dt, 1.0));
    Operand<TFloating> output = beginConv.call(tf, h);
    Operand<TFloating> layer1 = run(tf, res1, output, y);
    Operand<TFloating> layer2 = run(tf, res2, layer1, y);
    Operand<TFloating> layer3 = run(tf, res3, layer2, y);
    Operand<TFloating> layer4 = run(tf, res4, layer3, y);
    Operand<TFloating> ref1 = refine1.call(tf, List.of(layer4), y);
    Operand<TFloating> ref2 = refine2.call(tf, List.of(layer3, ref1), y);
    Operand<TFloating> ref3 = refine3.call(tf, List.of(layer2, ref2), y);
    output = refine4.call(tf, List.of(layer1, ref3), y);
    output = tf.nn.elu(normalizer.call(tf, output, y));
    return endConv.call(tf, output);
  }

  public Variant variant() {
    return variant;
  }

  /** [H, W, C]. */
  public long[] imageShape() {
    return imageShape.clone();
  }

  public int ngf() {
    return ngf;
  }

  private static Operand<TFloating> run(Ops tf, List<ResidualBlock> blocks, Operand<TFloating> x,
      Operand<TInt32> y) {
    for (ResidualBlock b : blocks) {
      x = b.call(tf, x, y);
    }
    return x;
  }

  private void checkInputShape(Shape s) {
    if (s.isUnknown()) {
      return;
    }
    boolean ok = s.numDimensions() == 4;
    for (int i = 1; ok && i < 4; i++) {
      ok = s.get(i) < 0 || s.get(i) == imageShape[i - 1];
    }
    if (!ok) {
      throw new IllegalArgumentException("the NCSN RefineNet was built for images " + Arrays.toString(imageShape)
          + " (NHWC), got input of shape " + s);
    }
  }
}
