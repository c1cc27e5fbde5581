package dev.genzoo.data;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * A data spec as the command line and configs write it, {@code SCHEME:LOCATION}:
 * <ul>
 *   <li>{@code toy:NAME}: a toy distribution ({@link Toys#names()});</li>
 *   <li>{@code mnist:DIR}: the MNIST idx files in DIR ({@link MnistReader});</li>
 *   <li>{@code cifar10:DIR}: the CIFAR-10 binary batches in DIR ({@link CifarReader}); a plain {@code cifar10} is
 *       the official dataset downloaded by the zoo module and cannot be opened here;</li>
 *   <li>{@code folder:DIR}: PNG/JPEG images under DIR ({@link ImageFolder}), brought to the options' size;</li>
 *   <li>{@code npy:FILE}: a NumPy array: {@code (N, D)} float16/32/64 = N points, {@code (N, H, W)} or
 *       {@code (N, H, W, C)} uint8 = N images.</li>
 * </ul>
 * Everything after the first colon is the location, so Windows paths ({@code folder:C:\images}) work.
 */
public record DataSpec(String scheme, String location) {
  /** The valid schemes. */
  public static final List<String> SCHEMES = List.of("toy", "mnist", "cifar10", "folder", "npy");

  public DataSpec {
    if (!SCHEMES.contains(scheme)) {
      throw new IllegalArgumentException("unknown data scheme '" + scheme + "'; valid: " + validForms());
    }
    if (location != null && location.isBlank()) {
      location = null;
    }
    if (location == null && !scheme.equals("cifar10")) {
      throw new IllegalArgumentException("data spec '" + scheme + ":' needs a " + what(scheme) + " after the colon, "
          + "e.g. " + example(scheme));
    }
    if (scheme.equals("toy")) {
      Toys.byName(location); // fails early, listing the valid names
    }
  }

  /**
   * How to open image data: the split ({@code "train"} or {@code "test"}, for mnist and cifar10) and, for
   * {@code folder:}, the target size, the fit and what to do with unreadable files.
   */
  public record Options(String split, int height, int width, int channels, ImageFolder.Fit fit,
      ImageFolder.OnError onError) {
    public Options {
      if (!split.equals("train") && !split.equals("test")) {
        throw new IllegalArgumentException("data split '" + split + "' is not one of: train, test");
      }
      if (height <= 0 || width <= 0) {
        throw new IllegalArgumentException("image size " + height + " x " + width + " must be positive");
      }
      if (channels != 1 && channels != 3) {
        throw new IllegalArgumentException("image channels " + channels + " must be 1 (grayscale) or 3 (RGB)");
      }
      if (fit == null || onError == null) {
        throw new IllegalArgumentException("image fit and on-error policy must be given");
      }
    }

    /** The training split; folders read as 32 x 32 RGB, centre-cropped, failing on unreadable files. */
    public static Options defaults() {
      return new Options("train", 32, 32, 3, ImageFolder.Fit.CENTER_CROP, ImageFolder.OnError.FAIL);
    }

    /** These options with another split. */
    public Options withSplit(String split) {
      return new Options(split, height, width, channels, fit, onError);
    }

    /** These options with another target size for {@code folder:}. */
    public Options withSize(int height, int width, int channels) {
      return new Options(split, height, width, channels, fit, onError);
    }

    /** These options with another fit for {@code folder:}. */
    public Options withFit(ImageFolder.Fit fit) {
      return new Options(split, height, width, channels, fit, onError);
    }

    /** These options with another policy for unreadable files in {@code folder:}. */
    public Options withOnError(ImageFolder.OnError onError) {
      return new Options(split, height, width, channels, fit, onError);
    }
  }

  /** Parses {@code SCHEME:LOCATION} (or the plain {@code cifar10}); fails listing the valid forms. */
  public static DataSpec parse(String spec) {
    if (spec == null || spec.isBlank()) {
      throw new IllegalArgumentException("empty data spec; valid: " + validForms());
    }
    String s = spec.strip();
    int colon = s.indexOf(':');
    String scheme = (colon < 0 ? s : s.substring(0, colon)).toLowerCase(Locale.ROOT);
    String location = colon < 0 ? null : s.substring(colon + 1);
    if (!SCHEMES.contains(scheme)) {
      throw new IllegalArgumentException("data spec '" + spec + "' has unknown scheme '" + scheme + "'; valid: "
          + validForms());
    }
    if (colon < 0 && !scheme.equals("cifar10")) {
      throw new IllegalArgumentException("data spec '" + spec + "' needs a " + what(scheme) + ", e.g. "
          + example(scheme));
    }
    return new DataSpec(scheme, location);
  }

  /** Whether this is the plain {@code cifar10}: the official files, to be downloaded by the zoo module. */
  public boolean needsDownload() {
    return location == null;
  }

  /** Opens the data with {@link Options#defaults()}. */
  public LoadedData open() throws IOException {
    return open(Options.defaults());
  }

  /** Reads the data this spec names. */
  public LoadedData open(Options options) throws IOException {
    return switch (scheme) {
      case "toy" -> new LoadedData.Toy(Toys.byName(location));
      case "mnist" -> new LoadedData.Images(MnistReader.readDir(Path.of(location), options.split()));
      case "cifar10" -> {
        if (location == null) {
          throw new IllegalArgumentException("data spec 'cifar10' (without a folder) is the official CIFAR-10, "
              + "downloaded by the zoo module (dev.genzoo.zoo); to read files you have, write cifar10:DIR");
        }
        yield new LoadedData.Images(CifarReader.readDir(Path.of(location), options.split()));
      }
      case "folder" -> new LoadedData.Images(ImageFolder.read(Path.of(location), options.height(), options.width(),
          options.channels(), options.fit(), options.onError()).dataset());
      case "npy" -> openNpy(Path.of(location));
      default -> throw new IllegalStateException(scheme);
    };
  }

  private static LoadedData openNpy(Path file) throws IOException {
    NpyArray a = Npy.read(file);
    long[] s = a.shape();
    NpyArray.DType t = NpyArray.DType.parse(a.descr());
    String accepted = "npy:" + file + ": array " + a + " is neither points (an (N, D) float16, float32 or float64 "
        + "array) nor images (an (N, H, W) or (N, H, W, C) uint8 array)";
    if (s.length == 2 && t.kind() == NpyArray.Kind.FLOAT) {
      if (s[0] == 0 || s[1] == 0) {
        throw new IOException("npy:" + file + ": point array " + a + " is empty");
      }
      float[] values = a.asFloats();
      for (int i = 0; i < values.length; i++) {
        if (!Float.isFinite(values[i])) {
          throw new IOException("npy:" + file + ": point " + i / s[1] + " coordinate " + i % s[1] + " is "
              + values[i] + " (not finite as float32)");
        }
      }
      return new LoadedData.Points(values, (int) s[0], (int) s[1], "npy:" + file);
    }
    if ((s.length == 3 || s.length == 4) && t.kind() == NpyArray.Kind.UINT && t.itemSize() == 1) {
      int channels = s.length == 4 ? (int) s[3] : 1;
      if (s[0] == 0 || s[1] == 0 || s[2] == 0 || channels == 0) {
        throw new IOException("npy:" + file + ": image array " + a + " is empty");
      }
      return new LoadedData.Images(new ImageDataset(a.data(), (int) s[0], (int) s[1], (int) s[2], channels, null,
          List.of(), "npy:" + file));
    }
    throw new IOException(accepted);
  }

  @Override
  public String toString() {
    return location == null ? scheme : scheme + ":" + location;
  }

  private static String validForms() {
    return "toy:NAME (" + String.join(", ", Toys.names()) + "), mnist:DIR, cifar10, cifar10:DIR, folder:DIR, "
        + "npy:FILE";
  }

  private static String what(String scheme) {
    return switch (scheme) {
      case "toy" -> "toy name (" + String.join(", ", Toys.names()) + ")";
      case "npy" -> "file";
      default -> "folder";
    };
  }

  private static String example(String scheme) {
    return switch (scheme) {
      case "toy" -> "toy:8gaussians";
      case "npy" -> "npy:points.npy";
      default -> scheme + ":/data/" + scheme;
    };
  }
}
