package dev.genzoo.examples;

import dev.genzoo.graphs.GenerativeModel;
import dev.genzoo.graphs.SampleOptions;
import dev.genzoo.graphs.Samples;
import dev.genzoo.graphs.train.Trainer;
import dev.genzoo.zoo.Zoo;
import java.nio.file.Path;

/**
 * Load a pretrained model in one line and draw samples.
 *
 * <pre>
 * java -cp ... dev.genzoo.examples.LoadAndSample flow-mnist samples.png
 * </pre>
 */
public final class LoadAndSample {
  private LoadAndSample() {}

  public static void main(String[] args) throws Exception {
    String name = args.length > 0 ? args[0] : "flow-mnist";
    Path out = Path.of(args.length > 1 ? args[1] : "samples.png");

    try (GenerativeModel model = Zoo.load(name)) {
      Samples samples = model.sample(64, SampleOptions.seed(0).withTemperature(0.8));
      Trainer.writeSamples(samples, out, name + " at temperature 0.8");
    }
    System.out.println("wrote " + out);
  }
}
