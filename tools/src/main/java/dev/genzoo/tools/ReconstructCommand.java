package dev.genzoo.tools;

import dev.genzoo.data.Batch;
import dev.genzoo.data.LoadedData;
import dev.genzoo.graphs.GenerativeModel;
import dev.genzoo.graphs.ModelOptions;
import dev.genzoo.graphs.Samples;
import dev.genzoo.graphs.nvae.NvaeModel;
import dev.genzoo.zoo.Datasets;
import dev.genzoo.zoo.Zoo;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code genzoo reconstruct}: a VAE's reconstructions of given images, the decoder's mean given z drawn from the
 * approximate posterior q(z | x), drawn under the originals in one grid.
 */
@Command(name = "reconstruct", description = {"A VAE's reconstructions of data: originals on top, reconstructions "
    + "below, as one grid PNG.", "Example: genzoo reconstruct nvae-mnist --data mnist:DIR --n 32 --out recon.png"})
final class ReconstructCommand implements Callable<Integer> {
  @Parameters(index = "0", paramLabel = "NAME", description = "registry name or bundle path (an nvae model)")
  String name;

  @Option(names = "--data", required = true, paramLabel = "SPEC", description = "the images to reconstruct")
  String data;

  @Option(names = "--split", defaultValue = "test", description = "train or test (default ${DEFAULT-VALUE})")
  String split;

  @Option(names = "--n", defaultValue = "32", description = "the first N images (default ${DEFAULT-VALUE})")
  int n;

  @Option(names = "--seed", defaultValue = "0", description = "posterior draw (and binarisation) seed")
  long seed;

  @Option(names = "--out", required = true, description = "the PNG to write")
  Path out;

  @Mixin
  RuntimeMixin runtime;

  @Mixin
  FolderOptions folder;

  @Override
  public Integer call() throws Exception {
    if (n <= 0) {
      throw new IllegalArgumentException("--n must be positive, got " + n);
    }
    try (GenerativeModel model = Zoo.load(name, ModelOptions.inference().withRuntime(runtime.options()))) {
      if (!(model instanceof NvaeModel vae)) {
        throw new IllegalArgumentException(name + " is a " + model.family() + " model; reconstruct needs a VAE "
            + "(nvae)");
      }
      if (model.dataShape().length != 3) {
        throw new IllegalArgumentException(name + " models points; reconstruct draws images");
      }
      LoadedData d = Datasets.open(data, folder.apply(Datasets.optionsFor(model.dataShape(), split)));
      Iterator<Batch> it = Datasets.evalBatches(d, n, n, seed, false).iterator();
      if (!it.hasNext()) {
        throw new IllegalArgumentException(data + ": no images");
      }
      Batch b = it.next();
      Samples r = vae.reconstruct(b, seed);
      float[] both = new float[2 * r.data().length];
      for (int i = 0; i < b.x().length; i++) {
        both[i] = Math.min(1f, Math.max(0f, b.x()[i] / 255f));
      }
      System.arraycopy(r.data(), 0, both, b.x().length, r.data().length);
      long[] shape = r.shape().clone();
      shape[0] *= 2;
      dev.genzoo.graphs.train.Trainer.writeSamples(new Samples(both, shape), out, name + " reconstructions");
      System.out.println("wrote " + out + " (" + b.size() + " images, then their reconstructions)");
    }
    return 0;
  }
}
