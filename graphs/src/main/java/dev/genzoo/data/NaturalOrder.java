package dev.genzoo.data;

/**
 * "Natural" string order: runs of ASCII digits compare by their numeric value, everything else character by
 * character, so that {@code data_batch_2.bin} sorts before {@code data_batch_10.bin}.
 */
final class NaturalOrder {
  private NaturalOrder() {}

  static int compare(String a, String b) {
    int i = 0;
    int j = 0;
    while (i < a.length() && j < b.length()) {
      char ca = a.charAt(i);
      char cb = b.charAt(j);
      if (isDigit(ca) && isDigit(cb)) {
        int ei = i;
        while (ei < a.length() && isDigit(a.charAt(ei))) {
          ei++;
        }
        int ej = j;
        while (ej < b.length() && isDigit(b.charAt(ej))) {
          ej++;
        }
        // Compare the digit runs without leading zeros: longer is larger, else lexicographic.
        int si = i;
        while (si < ei - 1 && a.charAt(si) == '0') {
          si++;
        }
        int sj = j;
        while (sj < ej - 1 && b.charAt(sj) == '0') {
          sj++;
        }
        int lengths = Integer.compare(ei - si, ej - sj);
        if (lengths != 0) {
          return lengths;
        }
        int digits = a.substring(si, ei).compareTo(b.substring(sj, ej));
        if (digits != 0) {
          return digits;
        }
        i = ei;
        j = ej;
      } else {
        if (ca != cb) {
          return Character.compare(ca, cb);
        }
        i++;
        j++;
      }
    }
    int rest = Integer.compare(a.length() - i, b.length() - j);
    return rest != 0 ? rest : a.compareTo(b);
  }

  private static boolean isDigit(char c) {
    return c >= '0' && c <= '9';
  }
}
