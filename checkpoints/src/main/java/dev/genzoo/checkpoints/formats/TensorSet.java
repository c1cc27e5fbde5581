package dev.genzoo.checkpoints.formats;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The named tensors of one checkpoint file, in file order, with the file they came from (for error messages) and
 * free-form string metadata (safetensors' {@code __metadata__}, the PyTorch checkpoint's non-tensor entries).
 */
public final class TensorSet implements Iterable<NamedTensor> {
  private final String source;
  private final Map<String, NamedTensor> tensors = new LinkedHashMap<>();
  private final Map<String, String> metadata = new LinkedHashMap<>();

  /** @param source what the tensors came from, e.g. the file's path */
  public TensorSet(String source) {
    this.source = source;
  }

  public String source() {
    return source;
  }

  /** Adds a tensor; a second tensor with the same name is an error. */
  public TensorSet add(NamedTensor t) {
    if (tensors.putIfAbsent(t.name(), t) != null) {
      throw new IllegalArgumentException(source + ": two tensors named " + t.name());
    }
    return this;
  }

  /** Adds or replaces a tensor. */
  public TensorSet put(NamedTensor t) {
    tensors.put(t.name(), t);
    return this;
  }

  public boolean contains(String name) {
    return tensors.containsKey(name);
  }

  /** The tensor {@code name}; an error naming the file and a few similar names when there is none. */
  public NamedTensor get(String name) {
    NamedTensor t = tensors.get(name);
    if (t == null) {
      List<String> near = new ArrayList<>();
      String tail = name.contains("/") || name.contains(".")
          ? name.substring(Math.max(name.lastIndexOf('/'), name.lastIndexOf('.')) + 1) : name;
      for (String k : tensors.keySet()) {
        if (k.endsWith(tail) && near.size() < 5) {
          near.add(k);
        }
      }
      throw new IllegalArgumentException(source + " has no tensor " + name
          + (near.isEmpty() ? "" : " (similar: " + String.join(", ", near) + ")"));
    }
    return t;
  }

  public NamedTensor remove(String name) {
    return tensors.remove(name);
  }

  public List<String> names() {
    return List.copyOf(tensors.keySet());
  }

  public int size() {
    return tensors.size();
  }

  /** Total bytes of tensor data. */
  public long totalBytes() {
    long n = 0;
    for (NamedTensor t : tensors.values()) {
      n += t.data().length;
    }
    return n;
  }

  public Map<String, String> metadata() {
    return metadata;
  }

  @Override
  public Iterator<NamedTensor> iterator() {
    return List.copyOf(tensors.values()).iterator();
  }
}
