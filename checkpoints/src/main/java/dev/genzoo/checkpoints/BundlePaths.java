package dev.genzoo.checkpoints;

import java.util.ArrayList;
import java.util.List;

/**
 * The rules for relative file paths inside a bundle, shared by the manifest, the folder checks and the archive
 * readers (the bundle's and the zoo's). A path is canonical when it is made of '/'-separated non-empty segments, none of them "." or "..", with no
 * backslash, no control character and no leading '/'.
 */
public final class BundlePaths {
  private BundlePaths() {}

  /** Why {@code path} is not a canonical relative path, or null when it is one. */
  static String problem(String path) {
    if (path == null || path.isEmpty()) {
      return "is empty";
    }
    String chars = badCharacters(path);
    if (chars != null) {
      return chars;
    }
    if (path.startsWith("/")) {
      return "is an absolute path";
    }
    for (String segment : path.split("/", -1)) {
      if (segment.isEmpty()) {
        return "has an empty segment ('//' or a trailing '/')";
      }
      if (segment.equals(".") || segment.equals("..")) {
        return "has a '" + segment + "' segment";
      }
    }
    return null;
  }

  /**
   * The canonical form of an archive entry name (tar or zip): "." segments and empty segments ("./model.json", "a//b", the trailing
   * '/' of a folder) are dropped; an absolute name, a drive letter, a ".." segment, a backslash or a control
   * character is refused. Returns "" for the archive's root folder ("./").
   *
   * @throws IllegalArgumentException with the reason
   */
  public static String canonicalEntry(String name) {
    if (name == null || name.isEmpty()) {
      throw new IllegalArgumentException("has an empty name");
    }
    String chars = badCharacters(name);
    if (chars != null) {
      throw new IllegalArgumentException(chars);
    }
    if (name.startsWith("/")) {
      throw new IllegalArgumentException("is an absolute path");
    }
    if (name.length() >= 2 && name.charAt(1) == ':' && Character.isLetter(name.charAt(0))) {
      throw new IllegalArgumentException("starts with a drive letter");
    }
    List<String> kept = new ArrayList<>();
    for (String segment : name.split("/")) {
      if (segment.equals("..")) {
        throw new IllegalArgumentException("has a '..' segment");
      }
      if (!segment.isEmpty() && !segment.equals(".")) {
        kept.add(segment);
      }
    }
    return String.join("/", kept);
  }

  private static String badCharacters(String path) {
    for (int i = 0; i < path.length(); i++) {
      char c = path.charAt(i);
      if (c == '\\') {
        return "contains a backslash";
      }
      if (c < 0x20 || c == 0x7f) {
        return "contains a control character";
      }
    }
    return null;
  }
}
