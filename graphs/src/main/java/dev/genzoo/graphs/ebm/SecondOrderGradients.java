package dev.genzoo.graphs.ebm;

import static org.tensorflow.internal.c_api.global.tensorflow.TFJ_HasGradient;
import static org.tensorflow.internal.c_api.global.tensorflow.TFJ_RegisterCustomGradient;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.tensorflow.GraphOperation;
import org.tensorflow.Operand;
import org.tensorflow.Output;
import org.tensorflow.TensorFlow;
import org.tensorflow.internal.c_api.TFJ_GradFuncAdapter;
import org.tensorflow.op.Ops;
import org.tensorflow.op.RawCustomGradient;
import org.tensorflow.types.family.TNumber;
import org.tensorflow.types.family.TType;

/**
 * Gradients of TensorFlow's first-order gradient ops, which TensorFlow Java 1.0.0 (TF runtime 2.16) does not register
 * in C++: with them, a gradient can be differentiated again ("double backprop"), as exact score matching
 * (Hyvarinen 2005; the parameter gradient of a Laplacian is a third derivative), denoising score matching of an energy
 * (Vincent 2011; the parameter gradient of grad_x U) and gradient penalties need.
 *
 * <p>The ops and the derivatives registered for them, with g the incoming gradient of the op's output z (each formula
 * is the derivative of the forward definition; TensorFlow's Python {@code math_grad.py} and {@code nn_grad.py} register
 * the same ones):
 * <ul>
 *   <li>{@code ReciprocalGrad(y, dy)} and {@code InvGrad}, z = -dy y^2: dz/dy = -2 dy y, dz/d(dy) = -y^2 (Log's second
 *       derivative goes through it);
 *   <li>{@code SigmoidGrad(y, dy)}, z = dy y (1 - y): dz/dy = dy (1 - 2 y), dz/d(dy) = y (1 - y);
 *   <li>{@code TanhGrad(y, dy)}, z = dy (1 - y^2): dz/dy = -2 dy y, dz/d(dy) = 1 - y^2;
 *   <li>{@code SoftplusGrad(dy, f)}, z = dy sigmoid(f): dz/d(dy) = sigmoid(f), dz/df = dy sigmoid(f) (1 - sigmoid(f));
 *   <li>{@code EluGrad(dy, y)}, z = dy for y &gt; 0, dy (y + 1) otherwise: dz/d(dy) = 1 or y + 1, dz/dy = 0 or dy;
 *   <li>{@code ReluGrad(dy, f)}, z = dy 1[f &gt; 0]: dz/d(dy) = 1[f &gt; 0], dz/df = 0;
 *   <li>{@code RsqrtGrad(y, dy)}, z = -dy y^3 / 2: dz/dy = -3 dy y^2 / 2, dz/d(dy) = -y^3 / 2;
 *   <li>{@code SqrtGrad(y, dy)}, z = dy / (2 y): dz/dy = -dy / (2 y^2), dz/d(dy) = 1 / (2 y);
 *   <li>{@code BiasAddGrad(dy)}, z = the sum of dy over every axis but the channel axis: dz/d(dy) = g broadcast back.
 * </ul>
 *
 * <p>Registration follows the TF Java 1.0.0 notes: {@code TensorFlow.registerCustomGradient} makes one native callback
 * per op type and the JVM crashes past ten of them, so one {@link RawCustomGradient} adapter that dispatches on the op
 * type is registered for every type through {@code TFJ_RegisterCustomGradient}, after {@code TFJ_HasGradient} says the
 * type has none (a gradient TensorFlow or other code already registered is never replaced). The adapter is held in a
 * static field: the native registry keeps only a pointer to it. {@link #install()} is idempotent and thread-safe.
 */
public final class SecondOrderGradients {
  /** The op types this class knows a gradient for. */
  public static final List<String> OP_TYPES = List.of("ReciprocalGrad", "InvGrad", "SigmoidGrad", "TanhGrad",
      "SoftplusGrad", "EluGrad", "ReluGrad", "RsqrtGrad", "SqrtGrad", "BiasAddGrad");

  private static final Object LOCK = new Object();
  /** Strong reference: the native registry only holds the adapter's function pointer. */
  private static TFJ_GradFuncAdapter adapter;
  private static final Set<String> registered = new LinkedHashSet<>();
  private static volatile boolean installed;

  private SecondOrderGradients() {}

  /**
   * Registers the gradients of {@link #OP_TYPES} that TensorFlow lacks; later calls do nothing. Returns the op types
   * this call or an earlier one registered (types that already had a gradient are left alone and not listed).
   */
  public static Set<String> install() {
    if (installed) {
      return registeredTypes();
    }
    synchronized (LOCK) {
      if (!installed) {
        TensorFlow.version(); // loads the native library before the C API is touched
        synchronized (TensorFlow.class) { // TensorFlow.registerCustomGradient locks the same monitor
          adapter = RawCustomGradient.adapter(SecondOrderGradients::gradient);
          for (String type : OP_TYPES) {
            if (!TFJ_HasGradient(type)) {
              if (!TFJ_RegisterCustomGradient(type, adapter)) {
                throw new IllegalStateException("TensorFlow refused the custom gradient of " + type);
              }
              registered.add(type);
            }
          }
        }
        installed = true;
      }
    }
    return registeredTypes();
  }

  /** The op types registered by this class so far. */
  public static Set<String> registeredTypes() {
    synchronized (LOCK) {
      return Collections.unmodifiableSet(new LinkedHashSet<>(registered));
    }
  }

  /** The adapter's dispatch: one gradient per input of {@code op}, given the gradient of its single output. */
  @SuppressWarnings({"unchecked", "rawtypes"})
  static List<Operand<?>> gradient(Ops tf, GraphOperation op, List<Output<?>> gradOutputs) {
    Operand g = gradOutputs.get(0);
    Operand a = op.input(0);
    Operand b = op.numInputs() > 1 ? op.input(1) : null;
    List<Operand<?>> out = new ArrayList<>(2);
    switch (op.type()) {
      case "ReciprocalGrad", "InvGrad" -> {
        // z = -dy * y^2 with a = y, b = dy
        out.add(tf.math.mul(g, tf.math.mul(tf.math.mul(constant(tf, -2.0, a), b), a)));
        out.add(tf.math.mul(g, tf.math.neg(tf.math.square(a))));
      }
      case "SigmoidGrad" -> {
        // z = dy * y * (1 - y) with a = y, b = dy
        Operand one = constant(tf, 1.0, a);
        out.add(tf.math.mul(g, tf.math.mul(b, tf.math.sub(one, tf.math.mul(constant(tf, 2.0, a), a)))));
        out.add(tf.math.mul(g, tf.math.mul(a, tf.math.sub(one, a))));
      }
      case "TanhGrad" -> {
        // z = dy * (1 - y^2) with a = y, b = dy
        out.add(tf.math.mul(g, tf.math.mul(tf.math.mul(constant(tf, -2.0, a), b), a)));
        out.add(tf.math.mul(g, tf.math.sub(constant(tf, 1.0, a), tf.math.square(a))));
      }
      case "SoftplusGrad" -> {
        // z = dy * sigmoid(f) with a = dy, b = f
        Operand s = tf.math.sigmoid(b);
        out.add(tf.math.mul(g, s));
        out.add(tf.math.mul(g, tf.math.mul(a, tf.math.mul(s, tf.math.sub(constant(tf, 1.0, s), s)))));
      }
      case "EluGrad" -> {
        // z = dy if y > 0 else dy * (y + 1), with a = dy, b = y (the Elu output)
        Operand positive = tf.math.greater(b, constant(tf, 0.0, b));
        Operand zeros = tf.zerosLike(b);
        out.add(tf.select(positive, g, tf.math.mul(g, tf.math.add(b, constant(tf, 1.0, b)))));
        out.add(tf.select(positive, zeros, tf.math.mul(g, a)));
      }
      case "ReluGrad" -> {
        // z = dy * 1[f > 0], with a = dy, b = f
        Operand zeros = tf.zerosLike(b);
        out.add(tf.select(tf.math.greater(b, constant(tf, 0.0, b)), g, zeros));
        out.add(zeros);
      }
      case "RsqrtGrad" -> {
        // z = -dy * y^3 / 2 with a = y, b = dy
        Operand y2 = tf.math.square(a);
        out.add(tf.math.mul(g, tf.math.mul(constant(tf, -1.5, a), tf.math.mul(b, y2))));
        out.add(tf.math.mul(g, tf.math.mul(constant(tf, -0.5, a), tf.math.mul(y2, a))));
      }
      case "SqrtGrad" -> {
        // z = dy / (2 y) with a = y, b = dy
        Operand half = constant(tf, 0.5, a);
        out.add(tf.math.neg(tf.math.div(tf.math.mul(g, tf.math.mul(half, b)), tf.math.square(a))));
        out.add(tf.math.div(tf.math.mul(g, half), a));
      }
      case "BiasAddGrad" -> out.add(biasAddGradGradient(tf, op, g, a));
      default -> throw new IllegalStateException("no second-order gradient for op type " + op.type());
    }
    return out;
  }

  /** BiasAddGrad sums dy over all axes but the channel axis (last for NHWC, 1 for NCHW): broadcast g back. */
  @SuppressWarnings({"unchecked", "rawtypes"})
  private static Operand<?> biasAddGradGradient(Ops tf, GraphOperation op, Operand g, Operand dy) {
    String format;
    try {
      format = op.attributes().getAttrString("data_format");
    } catch (RuntimeException e) {
      format = "NHWC";
    }
    Operand<? extends TNumber> shape = tf.shape(dy);
    if (format.startsWith("NC")) {
      // g [C] -> [C, 1, ..., 1] with rank(dy) - 2 trailing ones, then broadcast
      Operand<?> trailing = tf.fill(tf.reshape(tf.math.sub(tf.rank(dy), tf.constant(2)), tf.constant(new int[] {1})),
          tf.constant(1));
      Operand<?> newShape = tf.concat(List.of(tf.shape(g), (Operand) trailing), tf.constant(0));
      return tf.broadcastTo(tf.reshape(g, (Operand) newShape), (Operand) shape);
    }
    return tf.broadcastTo(g, (Operand) shape);
  }

  @SuppressWarnings({"unchecked", "rawtypes"})
  private static Operand constant(Ops tf, double v, Operand like) {
    return tf.dtypes.cast(tf.constant(v), ((Operand<? extends TType>) like).type());
  }
}
