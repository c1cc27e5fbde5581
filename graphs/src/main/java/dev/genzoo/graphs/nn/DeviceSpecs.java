package dev.genzoo.graphs.nn;

import org.tensorflow.DeviceSpec;

/** TensorFlow device names ({@code /job:ps/task:0}, {@code /device:GPU:1}, both) to {@link DeviceSpec}s and back. */
public final class DeviceSpecs {
  private DeviceSpecs() {}

  /** Parses {@code /job:J/replica:R/task:T/device:TYPE:I}; every part is optional, in that order. */
  public static DeviceSpec parse(String name) {
    DeviceSpec.Builder b = DeviceSpec.newBuilder();
    if (name == null || name.isEmpty()) {
      return b.build();
    }
    if (!name.startsWith("/")) {
      throw new IllegalArgumentException("device '" + name + "' must start with / (e.g. /job:ps/task:0, /device:GPU:1)");
    }
    for (String part : name.substring(1).split("/")) {
      int colon = part.indexOf(':');
      if (colon < 0) {
        throw new IllegalArgumentException("device '" + name + "': '" + part + "' is not KEY:VALUE");
      }
      String key = part.substring(0, colon);
      String value = part.substring(colon + 1);
      try {
        switch (key) {
          case "job" -> b.job(value);
          case "replica" -> b.replica(Integer.parseInt(value));
          case "task" -> b.task(Integer.parseInt(value));
          case "device" -> {
            int c = value.indexOf(':');
            String type = c < 0 ? value : value.substring(0, c);
            b.deviceType(DeviceSpec.DeviceType.valueOf(type.toUpperCase(java.util.Locale.ROOT)));
            if (c >= 0 && !value.substring(c + 1).equals("*")) {
              b.deviceIndex(Integer.parseInt(value.substring(c + 1)));
            }
          }
          default -> throw new IllegalArgumentException("device '" + name + "': unknown part '" + key + "'");
        }
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("device '" + name + "': '" + part + "' needs a number", e);
      }
    }
    return b.build();
  }
}
