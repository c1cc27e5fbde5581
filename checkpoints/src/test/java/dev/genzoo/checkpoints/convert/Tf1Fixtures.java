package dev.genzoo.checkpoints.convert;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.genzoo.checkpoints.formats.DType;
import dev.genzoo.checkpoints.formats.NamedTensor;
import dev.genzoo.checkpoints.formats.TensorSet;
import dev.genzoo.data.NpyArray;
import dev.genzoo.data.Npz;
import java.io.IOException;
import java.io.InputStream;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Session;
import org.tensorflow.ndarray.NdArrays;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.op.Op;
import org.tensorflow.op.Ops;

/**
 * Fixtures of the TF1 converters (made by make_tf1_converter_fixtures.py): the npz of upstream tensors, turned into a
 * real TensorFlow checkpoint by TensorFlow's own {@code SaveV2} op, and the full-size variable lists.
 */
final class Tf1Fixtures {
  /** The npz prefix of the checkpoint's tensors. */
  static final String CKPT = "ckpt/";

  private Tf1Fixtures() {}

  static Path resource(String name) {
    try {
      var url = Tf1Fixtures.class.getResource(name);
      assertTrue(url != null, "missing test resource " + name + " (run make_tf1_converter_fixtures.py)");
      return Path.of(url.toURI());
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  static Map<String, NpyArray> npz(String name) throws IOException {
    return Npz.readAll(resource(name));
  }

  /** The checkpoint tensors of a fixture, by TF1 name, in the npz's order (a fresh, modifiable map). */
  static Map<String, NpyArray> checkpointTensors(Map<String, NpyArray> arrays) {
    Map<String, NpyArray> out = new LinkedHashMap<>();
    for (Map.Entry<String, NpyArray> e : arrays.entrySet()) {
      if (e.getKey().startsWith(CKPT)) {
        out.put(e.getKey().substring(CKPT.length()), e.getValue());
      }
    }
    return out;
  }

  /**
   * Writes {@code tensors} as a TensorFlow checkpoint at {@code prefix} with TensorFlow's SaveV2 op ({@code
   * tf.train.save}), float32, int32 and int64 arrays as they are.
   */
  static Path saveV2(Map<String, NpyArray> tensors, Path prefix) {
    String[] names = tensors.keySet().toArray(new String[0]);
    String[] slices = new String[names.length];
    java.util.Arrays.fill(slices, "");
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      List<Operand<?>> values = new ArrayList<>();
      for (String n : names) {
        values.add(constant(tf, n, tensors.get(n)));
      }
      Op save = tf.train.save(tf.constant(prefix.toString()), tf.constant(NdArrays.vectorOfObjects(names)),
          tf.constant(NdArrays.vectorOfObjects(slices)), values);
      try (Session s = new Session(g)) {
        s.runner().addTarget(save).run().close();
      }
    }
    assertTrue(Files.isRegularFile(Path.of(prefix + ".index")), "SaveV2 wrote no index at " + prefix);
    return prefix;
  }

  private static Operand<?> constant(Ops tf, String name, NpyArray a) {
    Shape shape = Shape.of(a.shape());
    return switch (a.descr()) {
      case "<f4" -> tf.constant(shape, DataBuffers.of(a.asFloats(), true, false));
      case "<i8" -> tf.constant(shape, DataBuffers.of(a.asLongs(), true, false));
      case "<i4" -> {
        long[] l = a.asLongs();
        int[] v = new int[l.length];
        for (int i = 0; i < l.length; i++) {
          v[i] = Math.toIntExact(l[i]);
        }
        yield tf.constant(shape, DataBuffers.of(v, true, false));
      }
      default -> throw new IllegalArgumentException("fixture tensor " + name + " has dtype " + a.descr());
    };
  }

  /** A float32 array of {@code shape} filled with {@code value}. */
  static NpyArray filled(float value, long... shape) {
    long n = 1;
    for (long d : shape) {
      n *= d;
    }
    float[] v = new float[Math.toIntExact(n)];
    java.util.Arrays.fill(v, value);
    return NpyArray.ofFloats(v, shape);
  }

  static JsonNode json(String name) throws IOException {
    try (InputStream in = Files.newInputStream(resource(name))) {
      return new ObjectMapper().readTree(in);
    }
  }

  /**
   * The tensors of a full-size checkpoint listed by a {@code *_upstream.json} fixture: every variable, its slots
   * ({@code <var>/<suffix>}, only for trainable variables when the list says which are), and the other tensors, all
   * zeros. Tensors of one byte size share one zero array, so that listing 35.7M parameters costs a few MB.
   */
  static TensorSet zeroCheckpoint(JsonNode doc, String source) {
    Map<Long, byte[]> zeros = new HashMap<>();
    TensorSet set = new TensorSet(source);
    List<String> suffixes = new ArrayList<>();
    doc.get("slot_suffixes").forEach(s -> suffixes.add(s.asText()));
    for (JsonNode v : doc.get("variables")) {
      String name = v.get(0).asText();
      long[] shape = longs(v.get(1));
      boolean trainable = v.size() < 3 || v.get(2).asBoolean();
      set.add(zero(zeros, name, DType.F32, shape));
      if (trainable) {
        for (String s : suffixes) {
          set.add(zero(zeros, name + "/" + s, DType.F32, shape));
        }
      }
    }
    for (JsonNode o : doc.get("other_tensors")) {
      set.add(zero(zeros, o.get(0).asText(), DType.valueOf(o.get(1).asText()), longs(o.get(2))));
    }
    return set;
  }

  private static NamedTensor zero(Map<Long, byte[]> zeros, String name, DType dtype, long[] shape) {
    long n = dtype.byteSize();
    for (long d : shape) {
      n *= d;
    }
    return new NamedTensor(name, dtype, shape, zeros.computeIfAbsent(n, k -> new byte[Math.toIntExact(k)]));
  }

  static long[] longs(JsonNode array) {
    long[] out = new long[array.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = array.get(i).asLong();
    }
    return out;
  }

  static int[] ints(NpyArray a) {
    long[] l = a.asLongs();
    int[] out = new int[l.length];
    for (int i = 0; i < l.length; i++) {
      out[i] = Math.toIntExact(l[i]);
    }
    return out;
  }

  /** max |a - b|. */
  static double maxAbsDiff(float[] expected, double[] got) {
    assertTrue(expected.length == got.length, "lengths differ: " + expected.length + " vs " + got.length);
    double m = 0;
    for (int i = 0; i < got.length; i++) {
      m = Math.max(m, Math.abs(expected[i] - got[i]));
    }
    return m;
  }

  static double maxAbs(float[] a) {
    double m = 0;
    for (float v : a) {
      m = Math.max(m, Math.abs(v));
    }
    return m;
  }
}
