package dev.genzoo.zoo;

import dev.genzoo.data.Batch;
import dev.genzoo.data.DataSpec;
import dev.genzoo.data.ImageBatches;
import dev.genzoo.data.LoadedData;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Data by SPEC ({@code toy:8gaussians}, {@code mnist:DIR}, {@code cifar10:DIR}, {@code folder:DIR},
 * {@code npy:FILE}; see {@link DataSpec}), and evaluation passes over it.
 */
public final class Datasets {
  private Datasets() {}

  /** Opens a SPEC; a plain {@code cifar10} (to be downloaded) is refused with the way to get the files. */
  public static LoadedData open(String spec, DataSpec.Options options) throws IOException {
    DataSpec parsed = DataSpec.parse(spec);
    if (parsed.needsDownload()) {
      throw new IOException("downloading CIFAR-10 is not available in this version of genzoo: fetch "
          + "cifar-10-binary.tar.gz from https://www.cs.toronto.edu/~kriz/cifar.html, extract it, and pass "
          + "--data cifar10:DIR (the folder with data_batch_1.bin ... test_batch.bin)");
    }
    return parsed.open(options);
  }

  /** Options for data that must match a model's example shape ([H, W, C] images or [d] points). */
  public static DataSpec.Options optionsFor(long[] dataShape, String split) {
    DataSpec.Options o = DataSpec.Options.defaults().withSplit(split);
    if (dataShape.length == 3) {
      o = o.withSize((int) dataShape[0], (int) dataShape[1], (int) dataShape[2]);
    }
    return o;
  }

  /**
   * A fixed evaluation pass: every image (or the first {@code limit}) once in dataset order, dequantised with noise
   * from {@code seed} when asked; {@code limit} samples (default 10,000) of a toy distribution; every point of a
   * point set.
   */
  public static Iterable<Batch> evalBatches(LoadedData data, int batchSize, int limit, long seed, boolean dequantize) {
    if (data instanceof LoadedData.Images images) {
      var ds = images.dataset();
      if (limit > 0 && limit < ds.size()) {
        ds = ds.subset(0, limit);
      }
      return ImageBatches.evalBatches(ds, batchSize, seed, dequantize);
    }
    if (data instanceof LoadedData.Toy toy) {
      int n = limit > 0 ? limit : 10_000;
      float[] x = toy.distribution().sample(new SplittableRandom(seed), n);
      return split(x, n, toy.distribution().dim(), batchSize);
    }
    LoadedData.Points p = (LoadedData.Points) data;
    int n = limit > 0 ? Math.min(limit, p.size()) : p.size();
    float[] x = java.util.Arrays.copyOf(p.values(), n * p.dim());
    return split(x, n, p.dim(), batchSize);
  }

  /** The number of examples {@link #evalBatches} yields. */
  public static int evalCount(LoadedData data, int limit) {
    int size;
    if (data instanceof LoadedData.Images images) {
      size = images.dataset().size();
    } else if (data instanceof LoadedData.Toy) {
      return limit > 0 ? limit : 10_000;
    } else {
      size = ((LoadedData.Points) data).size();
    }
    return limit > 0 ? Math.min(limit, size) : size;
  }

  private static Iterable<Batch> split(float[] x, int n, int dim, int batchSize) {
    List<Batch> out = new ArrayList<>();
    for (int s = 0; s < n; s += batchSize) {
      int k = Math.min(batchSize, n - s);
      out.add(new Batch(java.util.Arrays.copyOfRange(x, s * dim, (s + k) * dim), new long[] {k, dim}, null));
    }
    return out;
  }
}
