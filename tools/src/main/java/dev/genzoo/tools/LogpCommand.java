package dev.genzoo.tools;

import dev.genzoo.data.Batch;
import dev.genzoo.data.Npy;
import dev.genzoo.data.NpyArray;
import dev.genzoo.graphs.GenerativeModel;
import dev.genzoo.graphs.ModelOptions;
import dev.genzoo.zoo.Zoo;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "logp", description = {"Log-density in nats per row (exact for flows, a bound for VAEs and DDPM).",
    "Points: an (N, d) float array. Images: (N, H, W, C) on the 8-bit scale (uint8, or floats in [0, 256) already "
        + "dequantised); the result is the log-probability of the discrete image."})
final class LogpCommand implements Callable<Integer> {
  @Parameters(index = "0", paramLabel = "NAME")
  String name;

  @Option(names = "--in", required = true, description = ".npy input")
  Path in;

  @Option(names = "--out", required = true, description = ".npy output, float64 (N,)")
  Path out;

  @Option(names = "--batch", defaultValue = "1024")
  int batch;

  @Mixin
  RuntimeMixin runtime;

  @Override
  public Integer call() throws Exception {
    NpyArray a = Npy.read(in);
    float[] x = a.asFloats();
    long[] shape = a.shape();
    try (GenerativeModel model = Zoo.load(name, ModelOptions.inference().withRuntime(runtime.options()))) {
      long[] want = model.dataShape();
      if (shape.length != want.length + 1 || !Arrays.equals(Arrays.copyOfRange(shape, 1, shape.length), want)) {
        throw new IllegalArgumentException(in + " has shape " + NpyArray.shapeString(shape) + " but " + name
            + " takes (N, " + Arrays.toString(want).replaceAll("[\\[\\]]", "") + ")");
      }
      int n = (int) shape[0];
      int per = x.length / Math.max(n, 1);
      double[] result = new double[n];
      for (int s = 0; s < n; s += batch) {
        int k = Math.min(batch, n - s);
        long[] bs = shape.clone();
        bs[0] = k;
        double[] lp = model.logProb(new Batch(Arrays.copyOfRange(x, s * per, (s + k) * per), bs, null));
        System.arraycopy(lp, 0, result, s, k);
      }
      Npy.write(out, NpyArray.ofDoubles(result, n));
      System.out.printf("wrote %s: %d values, mean log p = %.4f nats%n", out, n,
          Arrays.stream(result).average().orElse(Double.NaN));
    }
    return 0;
  }
}
