package dev.genzoo.graphs;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/** A family's named presets, in the order they are listed, with aliases (flow's {@code cifar10} is Glow's). */
public final class Presets<C> {
  private final String family;
  private final Map<String, Supplier<C>> presets = new LinkedHashMap<>();
  private final Map<String, String> aliases = new LinkedHashMap<>();

  public Presets(String family) {
    this.family = family;
  }

  public Presets<C> add(String name, Supplier<C> preset) {
    presets.put(name, preset);
    return this;
  }

  /** {@code alias} names the preset {@code target}; aliases are listed first. */
  public Presets<C> alias(String alias, String target) {
    if (!presets.containsKey(target)) {
      throw new IllegalArgumentException("alias " + alias + " of unknown preset " + target);
    }
    aliases.put(alias, target);
    return this;
  }

  /** A fresh copy of a preset; an unknown name is an error listing the valid ones. */
  public C get(String name) {
    Supplier<C> s = presets.get(aliases.getOrDefault(name, name));
    if (s == null) {
      throw new IllegalArgumentException("unknown " + family + " preset '" + name + "'; valid: "
          + String.join(", ", names()));
    }
    return s.get();
  }

  /** Aliases, then presets. */
  public List<String> names() {
    List<String> out = new ArrayList<>(aliases.keySet());
    out.addAll(presets.keySet());
    return out;
  }
}
