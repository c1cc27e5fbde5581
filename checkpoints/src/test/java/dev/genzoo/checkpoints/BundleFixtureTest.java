package dev.genzoo.checkpoints;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Archives written by Python's tarfile, gzip, json and hashlib (bundle/make_fixtures.py): the flat layout with
 * "./" entries and owner names as GNU tar writes it, and the layout with one top-level folder.
 */
class BundleFixtureTest {
  @ParameterizedTest
  @ValueSource(strings = {"python-flat.tar.gz", "python-toplevel.tar.gz"})
  void pythonWrittenArchiveUnpacksAndVerifies(String fixture, @TempDir Path tmp) throws IOException {
    Path archive = tmp.resolve(fixture);
    try (InputStream in = getClass().getResourceAsStream("bundle/" + fixture)) {
      Files.copy(in, archive);
    }
    Path target = tmp.resolve("flow-toy");
    BundleManifest m = Bundles.unpack(archive, target);
    assertEquals("flow-toy", m.name());
    assertEquals(1500, m.step());
    try (Bundle b = Bundle.open(target)) {
      // The data shard is float32 0.5 * i, i = 0..999, little-endian.
      ByteBuffer expected = ByteBuffer.allocate(4000).order(ByteOrder.LITTLE_ENDIAN);
      for (int i = 0; i < 1000; i++) {
        expected.putFloat(0.5f * i);
      }
      assertArrayEquals(expected.array(), Files.readAllBytes(b.file("variables.data-00000-of-00001")));
      assertEquals("samples written by make_fixtures.py\n", Files.readString(b.file("samples/README.txt")));
      assertEquals(Sha256.hex(BundleManifestTest.fixture()), b.manifestSha256());
      assertArrayEquals(BundleManifestTest.fixture(), Files.readAllBytes(b.file("model.json")));
    }
    // Repacking gives genzoo's own flat, deterministic layout, which unpacks to the same manifest.
    Path repacked = tmp.resolve("repacked.tar.gz");
    Bundles.pack(target, repacked);
    assertEquals(m, Bundles.unpack(repacked, tmp.resolve("again")));
    assertEquals(new String(BundleManifestTest.fixture(), StandardCharsets.UTF_8),
        Files.readString(tmp.resolve("again").resolve("model.json")));
  }
}
