package dev.genzoo.data;

import static org.junit.jupiter.api.Assertions.assertNotNull;

import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;

/** Finds test resources and the shared data folder. */
final class TestResources {
  private TestResources() {}

  /** A file under src/test/resources/data. */
  static Path resource(String name) {
    URL url = TestResources.class.getResource("/data/" + name);
    assertNotNull(url, "test resource data/" + name + " is not on the class path");
    try {
      return Path.of(url.toURI());
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  /** A folder of the shared data (../shared/data), or a skipped test when it is absent. */
  static Path sharedData(String sub) {
    String root = System.getProperty("genzoo.shared.data");
    Assumptions.assumeTrue(root != null && Files.isDirectory(Path.of(root, sub)),
        "shared data folder " + sub + " not available (set -Dgenzoo.shared.data=../shared/data); skipping");
    return Path.of(root, sub);
  }
}
