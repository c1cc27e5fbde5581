package dev.genzoo.checkpoints.convert;

import java.util.List;

/**
 * What a name map did: the genzoo variables it filled (with the upstream tensor of each), the upstream tensors it
 * ignored on purpose (optimiser state, raw weights when EMA weights were chosen, counters), the upstream tensors
 * left over (neither mapped nor ignored: worth a look), and the problems (missing tensors, wrong shapes, variables
 * mapped twice or not at all).
 */
public record ConversionReport(String source, List<String> mapped, List<String> ignored, List<String> leftover,
    List<String> problems) {
  public ConversionReport {
    mapped = List.copyOf(mapped);
    ignored = List.copyOf(ignored);
    leftover = List.copyOf(leftover);
    problems = List.copyOf(problems);
  }

  public boolean ok() {
    return problems.isEmpty();
  }

  /** One line: counts, and the first problems or leftovers. */
  public String summary() {
    StringBuilder b = new StringBuilder();
    b.append(mapped.size()).append(" variables mapped, ").append(ignored.size()).append(" upstream tensors ignored, ")
        .append(leftover.size()).append(" left over");
    if (!leftover.isEmpty()) {
      b.append(" (").append(String.join(", ", leftover.subList(0, Math.min(5, leftover.size()))))
          .append(leftover.size() > 5 ? ", ..." : "").append(')');
    }
    if (!problems.isEmpty()) {
      b.append("; ").append(problems.size()).append(" problems: ")
          .append(String.join("; ", problems.subList(0, Math.min(5, problems.size()))))
          .append(problems.size() > 5 ? "; ..." : "");
    }
    return b.toString();
  }

  /** Every line of the report, for {@code genzoo convert --report}. */
  public String text() {
    StringBuilder b = new StringBuilder("conversion of ").append(source).append('\n');
    for (String p : problems) {
      b.append("PROBLEM  ").append(p).append('\n');
    }
    for (String m : mapped) {
      b.append("mapped   ").append(m).append('\n');
    }
    for (String i : ignored) {
      b.append("ignored  ").append(i).append('\n');
    }
    for (String l : leftover) {
      b.append("leftover ").append(l).append('\n');
    }
    return b.toString();
  }
}
