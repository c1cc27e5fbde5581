package dev.genzoo.checkpoints;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Test vectors of FIPS 180-2, Appendix B (SHA-256) and the NIST example values. */
class Sha256Test {
  @Test
  void emptyInput() {
    assertEquals("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", Sha256.hex(new byte[0]));
  }

  @Test
  void oneBlockMessageAbc() throws IOException {
    byte[] abc = "abc".getBytes(StandardCharsets.US_ASCII);
    String expected = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
    assertEquals(expected, Sha256.hex(abc));
    assertEquals(expected, Sha256.hex(new ByteArrayInputStream(abc)));
  }

  @Test
  void twoBlockMessage() {
    byte[] m = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".getBytes(StandardCharsets.US_ASCII);
    assertEquals("248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1", Sha256.hex(m));
  }

  @Test
  void millionAsFromAFileLargerThanTheBuffer(@TempDir Path tmp) throws IOException {
    Path file = tmp.resolve("a.bin");
    byte[] chunk = new byte[1000];
    Arrays.fill(chunk, (byte) 'a');
    try (OutputStream out = Files.newOutputStream(file)) {
      for (int i = 0; i < 1000; i++) {
        out.write(chunk);
      }
    }
    assertEquals("cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0", Sha256.hex(file));
  }

  @Test
  void isHexAcceptsOnly64LowerCaseHexDigits() {
    assertTrue(Sha256.isHex("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"));
    assertFalse(Sha256.isHex("E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855"));
    assertFalse(Sha256.isHex("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b85"));
    assertFalse(Sha256.isHex("g3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"));
    assertFalse(Sha256.isHex(null));
  }
}
