package dev.genzoo.graphs.train;

import dev.genzoo.graphs.nn.VarStore;
import dev.genzoo.graphs.nn.VarStore.Var;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.tensorflow.Operand;
import org.tensorflow.Output;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.Tensor;
import org.tensorflow.exceptions.TensorFlowException;
import org.tensorflow.ndarray.NdArrays;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Op;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.op.train.Restore;
import org.tensorflow.types.TString;
import org.tensorflow.types.family.TType;

/**
 * Saves and restores a chosen set of variables as a TensorFlow checkpoint (tensor bundle: {@code prefix.index} +
 * {@code prefix.data-00000-of-00001}), keyed by name. A saved entry may read its value from another tensor, which is
 * how an exported model stores the EMA shadows under the weights' own names. Restoring checks every name, shape and
 * dtype against the model before assigning anything, and says which variable differs.
 */
public final class Saver {
  /** A checkpoint key, the tensor whose value is saved under it, and the variable a restore assigns. */
  public record Entry(String key, Operand<?> value, Var target) {}

  private final List<Entry> entries;
  private final Placeholder<TString> prefix;
  private final Op save;
  private final List<Output<?>> restored = new ArrayList<>();
  private final Op assign;

  public Saver(VarStore store, List<Entry> entries) {
    Ops tf = store.tf().withSubScope("saver");
    this.entries = List.copyOf(entries);
    String[] keys = new String[entries.size()];
    String[] slices = new String[entries.size()];
    List<Operand<?>> values = new ArrayList<>();
    List<Class<? extends TType>> types = new ArrayList<>();
    for (int i = 0; i < keys.length; i++) {
      keys[i] = entries.get(i).key();
      slices[i] = "";
      values.add(entries.get(i).value());
      types.add(entries.get(i).target().type());
    }
    this.prefix = tf.placeholder(TString.class, Placeholder.shape(Shape.scalar()));
    Operand<TString> names = tf.constant(NdArrays.vectorOfObjects(keys));
    Operand<TString> shapes = tf.constant(NdArrays.vectorOfObjects(slices));
    this.save = tf.train.save(prefix, names, shapes, values);
    Restore r = tf.train.restore(prefix, names, shapes, types);
    List<Op> assigns = new ArrayList<>();
    for (int i = 0; i < keys.length; i++) {
      Output<?> t = r.tensors().get(i);
      restored.add(t);
      assigns.add(assign(tf, entries.get(i).target(), t));
    }
    this.assign = tf.withControlDependencies(assigns).noOp();
  }

  @SuppressWarnings({"unchecked", "rawtypes"})
  private static Op assign(Ops tf, Var target, Output<?> value) {
    return tf.assign((Operand) target.ref(), (Operand) value);
  }

  /** Entries that save each variable under its own name. */
  public static List<Entry> identity(List<Var> vars) {
    List<Entry> out = new ArrayList<>();
    for (Var v : vars) {
      out.add(new Entry(v.name(), v.ref(), v));
    }
    return out;
  }

  public List<Entry> entries() {
    return entries;
  }

  /** Writes the checkpoint {@code prefix} ({@code prefix.index}, {@code prefix.data-*}). */
  public void save(Session session, Path prefix) {
    try (TString p = TString.scalarOf(prefix.toString())) {
      session.runner().feed(this.prefix, p).addTarget(save).run().close();
    }
  }

  /**
   * Restores every entry from {@code prefix}. Fails without changing any variable when the checkpoint lacks a key or
   * holds a different shape or dtype; the message names the checkpoint and the variable.
   */
  public void restore(Session session, Path prefix) {
    if (!Files.exists(Path.of(prefix + ".index"))) {
      throw new IllegalArgumentException("no checkpoint at " + prefix + " (" + prefix.getFileName()
          + ".index is missing)");
    }
    Session.Runner fetch = session.runner();
    try (TString p = TString.scalarOf(prefix.toString())) {
      fetch.feed(this.prefix, p);
      for (Output<?> o : restored) {
        fetch.fetch(o);
      }
      Result values;
      try {
        values = fetch.run();
      } catch (TensorFlowException e) {
        throw new IllegalArgumentException("checkpoint " + prefix + " does not match this model: " + firstLine(e), e);
      }
      try (values) {
        Session.Runner apply = session.runner();
        for (int i = 0; i < entries.size(); i++) {
          Tensor t = values.get(i);
          Var target = entries.get(i).target();
          if (!t.shape().equals(target.shape())) {
            throw new IllegalArgumentException("checkpoint " + prefix + ": variable " + entries.get(i).key()
                + " has shape " + Arrays.toString(t.shape().asArray()) + " but the model expects "
                + Arrays.toString(target.shape().asArray()) + " (a different config?)");
          }
          apply.feed(restored.get(i), t);
        }
        apply.addTarget(assign).run().close();
      }
    }
  }

  private static String firstLine(TensorFlowException e) {
    String m = String.valueOf(e.getMessage());
    int nl = m.indexOf('\n');
    return nl < 0 ? m : m.substring(0, nl);
  }
}
