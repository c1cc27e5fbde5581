package dev.genzoo.graphs;

/** The genzoo version, from the jar manifest (Implementation-Version), recorded in every bundle's provenance. */
public final class Version {
  private Version() {}

  /** E.g. "0.1.0-SNAPSHOT"; "development" when running from class folders rather than jars. */
  public static String current() {
    String v = Version.class.getPackage().getImplementationVersion();
    return v != null ? v : "development";
  }
}
