package dev.genzoo.checkpoints.convert;

import dev.genzoo.checkpoints.formats.NamedTensor;
import dev.genzoo.checkpoints.formats.TensorSet;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.regex.Pattern;

/**
 * A converter's table: rows of (upstream name, genzoo name, transform), plus patterns of upstream tensors that are
 * ignored on purpose. {@link #apply} checks that every genzoo variable is filled exactly once with the right shape,
 * that every named upstream tensor exists, and reports what was left over; any problem fails the conversion with an
 * error listing all of them.
 */
public final class NameMap {
  /** A genzoo variable to fill: its name and shape. */
  public record Target(String name, long[] shape) {}

  /** One row: the genzoo variable, the upstream tensors it reads, and how it is computed from them. */
  public record Rule(String genzoo, List<String> upstream, Function<List<NamedTensor>, NamedTensor> compute,
      String note) {}

  private final List<Rule> rules = new ArrayList<>();
  private final List<Predicate<String>> ignored = new ArrayList<>();
  private final List<String> ignoredWhy = new ArrayList<>();
  private final Map<String, Function<long[], NamedTensor>> constants = new LinkedHashMap<>();
  private final Map<String, OptionalGroup> optionalGroups = new LinkedHashMap<>();

  /** Upstream tensors under a prefix that a release may lack as a whole, and how their variables start then. */
  private record OptionalGroup(String why, java.util.function.BiFunction<String, long[], NamedTensor> init) {}

  /** Maps an upstream tensor to a genzoo variable, unchanged (cast to float32). */
  public NameMap map(String upstream, String genzoo) {
    return map(upstream, genzoo, Transform.IDENTITY);
  }

  /** Maps an upstream tensor to a genzoo variable through {@code transform}. */
  public NameMap map(String upstream, String genzoo, Transform transform) {
    rules.add(new Rule(genzoo, List.of(upstream), ts -> transform.apply(ts.get(0)), null));
    return this;
  }

  /** A genzoo variable computed from several upstream tensors (e.g. a weight-normalised kernel). */
  public NameMap compute(String genzoo, List<String> upstream, Function<List<NamedTensor>, NamedTensor> f,
      String note) {
    rules.add(new Rule(genzoo, List.copyOf(upstream), f, note));
    return this;
  }

  /** A genzoo variable that the upstream model does not have, set to a constant that makes it a no-op. */
  public NameMap constant(String genzoo, Function<long[], NamedTensor> value, String why) {
    rules.add(new Rule(genzoo, List.of(), ts -> null, why));
    constants.put(genzoo, value);
    return this;
  }

  /**
   * Declares that the upstream release may lack every tensor whose name starts with {@code upstreamPrefix} (e.g. a
   * GAN release with the generator only): when the checkpoint has NO tensor with that prefix, each variable whose rule
   * reads only such tensors is set by {@code init(genzooName, shape)} and reported as initialised, with {@code why}.
   * When the checkpoint has any tensor with the prefix, the rules apply as usual and a missing one is an error.
   */
  public NameMap optionalGroup(String upstreamPrefix, String why,
      java.util.function.BiFunction<String, long[], NamedTensor> init) {
    optionalGroups.put(upstreamPrefix, new OptionalGroup(why, init));
    return this;
  }

  /** Upstream tensors matching {@code regex} are ignored on purpose (reported, never an error). */
  public NameMap ignore(String regex, String why) {
    Pattern p = Pattern.compile(regex);
    ignored.add(n -> p.matcher(n).matches());
    ignoredWhy.add(why);
    return this;
  }

  public List<Rule> rules() {
    return List.copyOf(rules);
  }

  /** The genzoo weights: every target filled from {@code upstream}, as float32. */
  public record Result(TensorSet weights, ConversionReport report) {}

  /**
   * Applies the table.
   *
   * @throws ConversionException listing every problem (a target with no row or two rows, a row naming no target, a
   *     missing upstream tensor, a shape that differs after the transform)
   */
  public Result apply(TensorSet upstream, List<Target> targets) {
    Map<String, Target> byName = new LinkedHashMap<>();
    for (Target t : targets) {
      byName.put(t.name(), t);
    }
    List<String> problems = new ArrayList<>();
    List<String> mapped = new ArrayList<>();
    Set<String> used = new HashSet<>();
    Map<String, Rule> ruleOf = new LinkedHashMap<>();
    for (Rule r : rules) {
      if (!byName.containsKey(r.genzoo())) {
        problems.add("the table fills " + r.genzoo() + ", which the genzoo model does not have");
      } else if (ruleOf.putIfAbsent(r.genzoo(), r) != null) {
        problems.add(r.genzoo() + " is mapped twice (from " + ruleOf.get(r.genzoo()).upstream() + " and "
            + r.upstream() + ")");
      }
    }
    Map<String, OptionalGroup> absent = new LinkedHashMap<>();
    for (Map.Entry<String, OptionalGroup> g : optionalGroups.entrySet()) {
      if (upstream.names().stream().noneMatch(n -> n.startsWith(g.getKey()))) {
        absent.put(g.getKey(), g.getValue());
      }
    }
    TensorSet out = new TensorSet("genzoo weights converted from " + upstream.source());
    for (Target t : targets) {
      Rule r = ruleOf.get(t.name());
      if (r == null) {
        problems.add("no upstream tensor for " + t.name() + " " + Arrays.toString(t.shape()));
        continue;
      }
      NamedTensor value;
      OptionalGroup group = absentGroup(r, absent);
      if (group != null) {
        value = group.init().apply(t.name(), t.shape());
        if (!Arrays.equals(value.shape(), t.shape())) {
          problems.add(t.name() + ": the initialiser gave shape " + Arrays.toString(value.shape()));
          continue;
        }
        out.add(value.toF32().withName(t.name()));
        mapped.add(t.name() + " <- initialised (" + group.why() + ")");
        continue;
      }
      if (constants.containsKey(t.name())) {
        value = constants.get(t.name()).apply(t.shape());
      } else {
        List<NamedTensor> in = new ArrayList<>();
        boolean missing = false;
        for (String u : r.upstream()) {
          if (!upstream.contains(u)) {
            problems.add(upstream.source() + " has no tensor " + u + " (for " + t.name() + ")");
            missing = true;
          } else {
            in.add(upstream.get(u));
            used.add(u);
          }
        }
        if (missing) {
          continue;
        }
        try {
          value = r.compute().apply(in);
        } catch (RuntimeException e) {
          problems.add(t.name() + " from " + r.upstream() + ": " + e.getMessage());
          continue;
        }
      }
      if (!Arrays.equals(value.shape(), t.shape())) {
        problems.add(t.name() + " needs shape " + Arrays.toString(t.shape()) + " but " + describe(r, upstream)
            + " gives " + Arrays.toString(value.shape()));
        continue;
      }
      out.add(value.toF32().withName(t.name()));
      mapped.add(t.name() + " <- " + (r.upstream().isEmpty() ? "(" + r.note() + ")" : String.join(" + ",
          r.upstream())));
    }
    List<String> ignoredNames = new ArrayList<>();
    List<String> leftover = new ArrayList<>();
    for (String n : upstream.names()) {
      if (used.contains(n)) {
        continue;
      }
      String why = null;
      for (int i = 0; i < ignored.size(); i++) {
        if (ignored.get(i).test(n)) {
          why = ignoredWhy.get(i);
          break;
        }
      }
      if (why != null) {
        ignoredNames.add(n + " (" + why + ")");
      } else {
        leftover.add(n);
      }
    }
    ConversionReport report = new ConversionReport(upstream.source(), mapped, ignoredNames, leftover, problems);
    if (!report.ok()) {
      throw new ConversionException("cannot convert " + upstream.source() + ": " + report.summary(), report);
    }
    return new Result(out, report);
  }

  private static OptionalGroup absentGroup(Rule r, Map<String, OptionalGroup> absent) {
    if (r.upstream().isEmpty()) {
      return null;
    }
    for (Map.Entry<String, OptionalGroup> g : absent.entrySet()) {
      if (r.upstream().stream().allMatch(u -> u.startsWith(g.getKey()))) {
        return g.getValue();
      }
    }
    return null;
  }

  private static String describe(Rule r, TensorSet upstream) {
    if (r.upstream().isEmpty()) {
      return "the constant";
    }
    StringBuilder b = new StringBuilder();
    for (String u : r.upstream()) {
      if (b.length() > 0) {
        b.append(" + ");
      }
      b.append(u).append(' ').append(upstream.get(u).shapeString());
    }
    return b.toString();
  }
}
