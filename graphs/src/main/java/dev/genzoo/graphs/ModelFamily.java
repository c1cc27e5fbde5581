package dev.genzoo.graphs;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;

/** A family of models: its presets, how to build one from a config, and a description of a config for people. */
public interface ModelFamily {
  /** "flow", "ddpm", ... */
  String name();

  /** One line about the family. */
  String description();

  /** Preset names, the headline CIFAR-10 preset first. */
  List<String> presets();

  /** A preset's config as JSON; an unknown name is an error listing the valid ones. */
  JsonNode preset(String name);

  /** Checks a config (parses it, throwing a clear error naming the bad field) and returns it normalised. */
  JsonNode validate(JsonNode config);

  /** Builds a model with fresh variables. */
  GenerativeModel create(JsonNode config, ModelOptions options);

  /** The shape of one example for a config (without building the graph). */
  long[] dataShape(JsonNode config);

  /** A few lines describing the architecture of a config (for {@code genzoo info}). */
  String describe(JsonNode config);
}
