package dev.genzoo.graphs;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

/**
 * Configs as JSON: records to and from JSON with unknown fields rejected, and {@code --set key=value} overrides on
 * dotted paths ({@code model.width=64}, {@code training.optimizer.learningRate=1e-4}).
 */
public final class Configs {
  public static final ObjectMapper JSON = new ObjectMapper()
      .enable(SerializationFeature.INDENT_OUTPUT)
      .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
      .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
      .enable(DeserializationFeature.FAIL_ON_MISSING_CREATOR_PROPERTIES);

  private Configs() {}

  public static JsonNode toJson(Object config) {
    return JSON.valueToTree(config);
  }

  /** Parses a config, with an error that names the offending field. */
  public static <T> T fromJson(JsonNode json, Class<T> type) {
    try {
      return JSON.treeToValue(json, type);
    } catch (UnrecognizedPropertyException e) {
      throw new IllegalArgumentException("unknown config key '" + pathOf(e) + "'; valid keys here: "
          + e.getKnownPropertyIds(), e);
    } catch (JsonProcessingException e) {
      Throwable root = e;
      while (root.getCause() != null && root.getCause() != root) {
        root = root.getCause();
      }
      String msg = root instanceof IllegalArgumentException ? root.getMessage() : e.getOriginalMessage();
      throw new IllegalArgumentException("invalid " + type.getSimpleName() + pathSuffix(e) + ": " + msg, e);
    }
  }

  private static String pathOf(JsonProcessingException e) {
    if (e instanceof com.fasterxml.jackson.databind.JsonMappingException m) {
      List<String> parts = new ArrayList<>();
      for (com.fasterxml.jackson.databind.JsonMappingException.Reference r : m.getPath()) {
        parts.add(r.getFieldName() != null ? r.getFieldName() : String.valueOf(r.getIndex()));
      }
      return String.join(".", parts);
    }
    return "?";
  }

  private static String pathSuffix(JsonProcessingException e) {
    String p = pathOf(e);
    return p.isEmpty() || p.equals("?") ? "" : " at '" + p + "'";
  }

  /**
   * Applies {@code key=value} overrides to a copy of {@code config}. The key must exist; the value is parsed as JSON
   * when it can be (numbers, booleans, arrays like [1,2,2,2]) and taken as a string otherwise.
   */
  public static JsonNode override(JsonNode config, List<String> assignments) {
    ObjectNode copy = config.deepCopy();
    for (String a : assignments) {
      int eq = a.indexOf('=');
      if (eq <= 0) {
        throw new IllegalArgumentException("--set expects key=value, got '" + a + "'");
      }
      String key = a.substring(0, eq).trim();
      String raw = a.substring(eq + 1).trim();
      String[] path = key.split("\\.");
      JsonNode node = copy;
      for (int i = 0; i < path.length - 1; i++) {
        JsonNode next = node.get(path[i]);
        if (next == null || !next.isObject()) {
          throw new IllegalArgumentException("--set " + key + ": no section '" + path[i] + "'; valid: "
              + fieldNames(node));
        }
        node = next;
      }
      String leaf = path[path.length - 1];
      if (!node.has(leaf)) {
        throw new IllegalArgumentException("--set " + key + ": no key '" + leaf + "'; valid: " + fieldNames(node));
      }
      JsonNode value;
      try {
        value = JSON.readTree(raw);
      } catch (JsonProcessingException e) {
        value = JsonNodeFactory.instance.textNode(raw);
      }
      if (value == null || value.isMissingNode()) {
        value = JsonNodeFactory.instance.textNode(raw);
      }
      if (node.get(leaf).isTextual() && !value.isTextual()) {
        value = JsonNodeFactory.instance.textNode(raw);
      }
      ((ObjectNode) node).set(leaf, value);
    }
    return copy;
  }

  private static List<String> fieldNames(JsonNode node) {
    List<String> names = new ArrayList<>();
    for (Iterator<String> it = node.fieldNames(); it.hasNext();) {
      names.add(it.next());
    }
    return names;
  }
}
