package dev.genzoo.graphs;

import dev.genzoo.graphs.ddpm.DdpmFamily;
import dev.genzoo.graphs.ebm.EbmFamily;
import dev.genzoo.graphs.flow.FlowFamily;
import dev.genzoo.graphs.ncsn.NcsnFamily;
import dev.genzoo.graphs.nvae.NvaeFamily;
import dev.genzoo.graphs.rbm.RbmFamily;
import dev.genzoo.graphs.sngan.SnganFamily;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The registry of families, by name. */
public final class Families {
  private static final Map<String, ModelFamily> FAMILIES = new LinkedHashMap<>();

  static {
    register(new FlowFamily());
    register(new DdpmFamily());
    register(new NcsnFamily());
    register(new EbmFamily());
    register(new RbmFamily());
    register(new SnganFamily());
    register(new NvaeFamily());
  }

  private Families() {}

  private static void register(ModelFamily f) {
    FAMILIES.put(f.name(), f);
  }

  public static ModelFamily get(String name) {
    ModelFamily f = FAMILIES.get(name);
    if (f == null) {
      throw new IllegalArgumentException("unknown family '" + name + "'; known: " + String.join(", ", FAMILIES.keySet()));
    }
    return f;
  }

  public static List<ModelFamily> all() {
    return new ArrayList<>(FAMILIES.values());
  }
}
