package dev.genzoo.graphs;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * A {@link ModelFamily} whose config is a record of type {@code C}: the JSON plumbing (parse, validate, presets as
 * JSON) is here once; a family supplies its presets, its model constructor, the data shape and a description.
 */
public abstract class ConfigFamily<C> implements ModelFamily {
  private final String name;
  private final String description;
  private final Class<C> type;

  protected ConfigFamily(String name, String description, Class<C> type) {
    this.name = name;
    this.description = description;
    this.type = type;
  }

  /** A preset's config; an unknown name is an error listing the valid ones. */
  public abstract C presetConfig(String name);

  /** Builds a model with fresh variables. */
  protected abstract GenerativeModel build(C config, ModelOptions options);

  /** The shape of one example. */
  protected abstract long[] dataShapeOf(C config);

  /** A few lines describing the architecture (for {@code genzoo info}). */
  protected abstract String describeConfig(C config);

  @Override
  public final String name() {
    return name;
  }

  @Override
  public final String description() {
    return description;
  }

  /** Parses a config, throwing a clear error naming the bad field. */
  public C parse(JsonNode config) {
    return Configs.fromJson(config, type);
  }

  @Override
  public JsonNode preset(String presetName) {
    return Configs.toJson(presetConfig(presetName));
  }

  @Override
  public JsonNode validate(JsonNode config) {
    return Configs.toJson(parse(config));
  }

  @Override
  public GenerativeModel create(JsonNode config, ModelOptions options) {
    return build(parse(config), options);
  }

  @Override
  public long[] dataShape(JsonNode config) {
    return dataShapeOf(parse(config)).clone();
  }

  @Override
  public String describe(JsonNode config) {
    return describeConfig(parse(config));
  }
}
