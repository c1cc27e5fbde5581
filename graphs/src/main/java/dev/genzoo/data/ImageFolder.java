package dev.genzoo.data;

import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.ColorModel;
import java.awt.image.IndexColorModel;
import java.awt.image.Raster;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.TreeSet;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import javax.imageio.ImageIO;

/**
 * Reads a folder of PNG and JPEG images (recursively, with Java ImageIO) into an {@link ImageDataset} of one fixed
 * size: the layout a user has for "fine-tune on my images". Files are taken in sorted order of their path relative to
 * the folder (with {@code /} separators); names starting with a dot are ignored. When every image lies in a
 * subfolder, the first-level subfolder names, sorted, are the class names and give the labels (the layout
 * {@code train/<class>/0001.jpg} of torchvision's ImageFolder); otherwise there are no labels.
 *
 * <p>Colour: 3 channels are the image's sRGB values; 1 channel is the luminance
 * {@code Y = 0.299 R + 0.587 G + 0.114 B} (ITU-R BT.601, as PIL's {@code convert("L")}), and a grayscale file is
 * read by its stored gray values. Alpha is dropped (the colour values are used as stored, not composited).
 *
 * <p>Size: {@link Fit#RESIZE} scales the whole image to exactly {@code height x width}; {@link Fit#CENTER_CROP} first
 * cuts the largest centred region with the target's aspect ratio (a centred square when height = width), then
 * scales it. Downscaling averages the source pixels over each target pixel's footprint, weighted by their area of
 * overlap (exact area averaging, also for non-integer ratios); upscaling is bilinear with pixel centres at half
 * integers. Values are rounded to the nearest integer.
 */
public final class ImageFolder {
  /** How an image is brought to the target size. */
  public enum Fit {
    /** Scale the whole image to the target size (the aspect ratio may change). */
    RESIZE,
    /** Cut the centred region with the target's aspect ratio, then scale it. */
    CENTER_CROP
  }

  /** What to do with a file that cannot be decoded. */
  public enum OnError {
    /** Fail with an exception naming the file. */
    FAIL,
    /** Leave it out, with a warning naming it on standard error. */
    SKIP
  }

  /** The images, the files they came from (in dataset order), and the files left out as unreadable. */
  public record Result(ImageDataset dataset, List<Path> files, List<Path> skipped) {
    public Result {
      files = List.copyOf(files);
      skipped = List.copyOf(skipped);
    }
  }

  private static final List<String> EXTENSIONS = List.of(".png", ".jpg", ".jpeg");

  private ImageFolder() {}

  /**
   * Reads every PNG and JPEG under {@code dir} as {@code height x width x channels} (channels 1 or 3).
   *
   * @throws IOException when the folder is missing, has no image files, has no readable image, or (with
   *     {@link OnError#FAIL}) when one file cannot be decoded; the message names the folder or the file
   */
  public static Result read(Path dir, int height, int width, int channels, Fit fit, OnError onError)
      throws IOException {
    if (height <= 0 || width <= 0) {
      throw new IllegalArgumentException("image folder " + dir + ": target size " + height + " x " + width
          + " must be positive");
    }
    if (channels != 1 && channels != 3) {
      throw new IllegalArgumentException("image folder " + dir + ": channels " + channels
          + " must be 1 (grayscale) or 3 (RGB)");
    }
    if (!Files.isDirectory(dir)) {
      throw new NoSuchFileException(dir.toString(), null, "not a folder of images");
    }
    List<Path> files = list(dir);
    if (files.isEmpty()) {
      throw new IOException("image folder " + dir + " has no PNG or JPEG files (looked for *.png, *.jpg, *.jpeg "
          + "in it and its subfolders)");
    }
    boolean labelled = true;
    TreeSet<String> classSet = new TreeSet<>();
    for (Path f : files) {
      Path rel = dir.relativize(f);
      if (rel.getNameCount() < 2) {
        labelled = false;
      } else {
        classSet.add(rel.getName(0).toString());
      }
    }
    List<String> classes = labelled ? List.copyOf(classSet) : List.of();

    int n = files.size();
    long exampleSize = (long) height * width * channels;
    if (n * exampleSize > Integer.MAX_VALUE - 8) {
      throw new IOException("image folder " + dir + ": " + n + " images of " + height + " x " + width + " x "
          + channels + " are more than one Java array can hold; use a smaller size or fewer images");
    }
    int size = (int) exampleSize;
    byte[] pixels = new byte[n * size];
    String[] errors = new String[n];
    IntStream.range(0, n).parallel().forEach(i -> {
      try {
        decode(files.get(i), height, width, channels, fit, pixels, i * size);
      } catch (IOException | RuntimeException e) {
        errors[i] = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
      }
    });

    List<Path> kept = new ArrayList<>();
    List<Path> skipped = new ArrayList<>();
    List<Integer> labels = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      Path f = files.get(i);
      if (errors[i] != null) {
        if (onError == OnError.FAIL) {
          throw new IOException("unreadable image " + f + ": " + errors[i]
              + " (use OnError.SKIP / --on-error skip to leave such files out)");
        }
        System.err.println("genzoo: skipping unreadable image " + f + ": " + errors[i]);
        skipped.add(f);
        continue;
      }
      if (kept.size() != i) {
        System.arraycopy(pixels, i * size, pixels, kept.size() * size, size);
      }
      kept.add(f);
      if (labelled) {
        labels.add(classes.indexOf(dir.relativize(f).getName(0).toString()));
      }
    }
    if (kept.isEmpty()) {
      throw new IOException("image folder " + dir + " has no readable images: all " + n
          + " PNG/JPEG files failed to decode (first: " + files.get(0) + ": " + errors[0] + ")");
    }
    if (!skipped.isEmpty()) {
      System.err.println("genzoo: skipped " + skipped.size() + " of " + n + " image files in " + dir);
    }
    byte[] data = kept.size() == n ? pixels : java.util.Arrays.copyOf(pixels, kept.size() * size);
    String description = "folder:" + dir + " (" + fit.name().toLowerCase(Locale.ROOT).replace('_', '-')
        + (labelled ? ", " + classes.size() + " classes" : "")
        + (skipped.isEmpty() ? "" : ", " + skipped.size() + " unreadable skipped") + ")";
    int[] labelArray = labelled ? labels.stream().mapToInt(Integer::intValue).toArray() : null;
    ImageDataset dataset = new ImageDataset(data, kept.size(), height, width, channels, labelArray, classes,
        description);
    return new Result(dataset, kept, skipped);
  }

  /** The image files under {@code dir}, sorted by relative path; hidden names (starting with a dot) left out. */
  static List<Path> list(Path dir) throws IOException {
    List<Path> out = new ArrayList<>();
    try (Stream<Path> walk = Files.walk(dir)) {
      walk.filter(Files::isRegularFile).filter(p -> {
        Path rel = dir.relativize(p);
        for (Path part : rel) {
          if (part.toString().startsWith(".")) {
            return false;
          }
        }
        String name = p.getFileName().toString().toLowerCase(Locale.ROOT);
        return EXTENSIONS.stream().anyMatch(name::endsWith);
      }).forEach(out::add);
    }
    out.sort((a, b) -> relative(dir, a).compareTo(relative(dir, b)));
    return out;
  }

  private static String relative(Path dir, Path p) {
    return dir.relativize(p).toString().replace('\\', '/');
  }

  /** Decodes {@code file} and writes its {@code height x width x channels} bytes into {@code out} at {@code at}. */
  private static void decode(Path file, int height, int width, int channels, Fit fit, byte[] out, int at)
      throws IOException {
    BufferedImage image = ImageIO.read(file.toFile());
    if (image == null) {
      throw new IOException("not a PNG or JPEG that Java ImageIO can decode");
    }
    int w = image.getWidth();
    int h = image.getHeight();
    int x0 = 0;
    int y0 = 0;
    int cw = w;
    int ch = h;
    if (fit == Fit.CENTER_CROP) {
      if ((long) w * height > (long) h * width) { // wider than the target: cut left and right
        cw = (int) Math.max(1, Math.min(w, Math.round((double) h * width / height)));
        x0 = (w - cw) / 2;
      } else {
        ch = (int) Math.max(1, Math.min(h, Math.round((double) w * height / width)));
        y0 = (h - ch) / 2;
      }
    }
    float[] rows = rowsResampled(image, x0, y0, cw, ch, width, channels);
    resampleColumns(rows, ch, width * channels, height, out, at);
  }

  /**
   * Reads rows {@code y0 .. y0+ch-1}, columns {@code x0 .. x0+cw-1} of {@code image} as {@code channels} values per
   * pixel (0..255 scale) and resamples each row to {@code width} pixels: {@code ch x width x channels} floats.
   */
  private static float[] rowsResampled(BufferedImage image, int x0, int y0, int cw, int ch, int width,
      int channels) {
    ColorModel cm = image.getColorModel();
    boolean gray = !(cm instanceof IndexColorModel) && cm.getColorSpace().getType() == ColorSpace.TYPE_GRAY;
    double grayScale = gray ? 255.0 / ((1L << cm.getComponentSize(0)) - 1) : 0;
    Raster raster = image.getRaster();
    Axis axis = Axis.of(cw, width);
    float[] rowIn = new float[cw * channels];
    int[] buf = new int[cw];
    float[] out = new float[ch * width * channels];
    for (int y = 0; y < ch; y++) {
      if (gray) {
        raster.getSamples(x0, y0 + y, cw, 1, 0, buf);
        for (int x = 0; x < cw; x++) {
          float v = (float) (buf[x] * grayScale);
          for (int c = 0; c < channels; c++) {
            rowIn[x * channels + c] = v;
          }
        }
      } else {
        image.getRGB(x0, y0 + y, cw, 1, buf, 0, cw);
        for (int x = 0; x < cw; x++) {
          int argb = buf[x];
          int r = (argb >>> 16) & 0xff;
          int g = (argb >>> 8) & 0xff;
          int b = argb & 0xff;
          if (channels == 1) {
            rowIn[x] = (float) (0.299 * r + 0.587 * g + 0.114 * b);
          } else {
            rowIn[x * 3] = r;
            rowIn[x * 3 + 1] = g;
            rowIn[x * 3 + 2] = b;
          }
        }
      }
      axis.apply(rowIn, 0, channels, channels, out, y * width * channels, channels);
    }
    return out;
  }

  /** Resamples {@code rows} ({@code ch} rows of {@code rowLength} floats) to {@code height} rows, rounded. */
  private static void resampleColumns(float[] rows, int ch, int rowLength, int height, byte[] out, int at) {
    Axis axis = Axis.of(ch, height);
    float[] column = new float[height];
    for (int i = 0; i < rowLength; i++) {
      axis.apply(rows, i, rowLength, 1, column, 0, 1);
      for (int y = 0; y < height; y++) {
        out[at + y * rowLength + i] = toByte(column[y]);
      }
    }
  }

  static byte toByte(double v) {
    long r = Math.round(v);
    return (byte) Math.max(0, Math.min(255, r));
  }

  /**
   * The resampling weights of one axis, from {@code in} source pixels to {@code out} target pixels: area averaging
   * when shrinking (or keeping) the size, bilinear interpolation when enlarging it.
   */
  record Axis(int[] first, int[] count, double[][] weights) {
    static Axis of(int in, int out) {
      int[] first = new int[out];
      int[] count = new int[out];
      double[][] weights = new double[out][];
      double scale = (double) in / out;
      for (int o = 0; o < out; o++) {
        double[] w;
        if (scale >= 1) {
          double lo = o * scale;
          double hi = Math.min(in, (o + 1) * scale);
          int i0 = (int) Math.floor(lo);
          int i1 = Math.min(in, (int) Math.ceil(hi));
          w = new double[i1 - i0];
          for (int i = i0; i < i1; i++) {
            w[i - i0] = Math.max(0, Math.min(hi, i + 1) - Math.max(lo, i));
          }
          first[o] = i0;
        } else {
          double c = (o + 0.5) * scale - 0.5;
          int i0 = (int) Math.floor(c);
          double f = c - i0;
          if (i0 < 0) {
            i0 = 0;
            f = 0;
          } else if (i0 >= in - 1) {
            i0 = in - 1;
            f = 0;
          }
          w = f == 0 ? new double[] {1} : new double[] {1 - f, f};
          first[o] = i0;
        }
        double sum = 0;
        for (double v : w) {
          sum += v;
        }
        for (int k = 0; k < w.length; k++) {
          w[k] /= sum;
        }
        count[o] = w.length;
        weights[o] = w;
      }
      return new Axis(first, count, weights);
    }

    /**
     * {@code dst[dstOffset + o * dstStride + c] = Σ_k w[o][k] src[srcOffset + (first[o] + k) * srcStride + c]} for
     * every target index o and each of {@code lanes} interleaved channels c.
     */
    void apply(float[] src, int srcOffset, int srcStride, int lanes, float[] dst, int dstOffset, int dstStride) {
      for (int o = 0; o < first.length; o++) {
        double[] w = weights[o];
        for (int c = 0; c < lanes; c++) {
          double s = 0;
          for (int k = 0; k < w.length; k++) {
            s += w[k] * src[srcOffset + (first[o] + k) * srcStride + c];
          }
          dst[dstOffset + o * dstStride + c] = (float) s;
        }
      }
    }
  }
}
