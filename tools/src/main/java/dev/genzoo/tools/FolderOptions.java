package dev.genzoo.tools;

import dev.genzoo.data.DataSpec;
import dev.genzoo.data.ImageFolder;
import picocli.CommandLine.Option;

/** How {@code folder:DIR} images are read: fitted to the model's size, and what to do with unreadable files. */
final class FolderOptions {
  @Option(names = "--fit", defaultValue = "crop", description = "folder images: crop (centre crop, then resize) or "
      + "resize (the whole image, aspect not kept); default ${DEFAULT-VALUE}")
  String fit;

  @Option(names = "--skip-bad-images", description = "folder images: skip unreadable files with a warning "
      + "(default: stop with an error naming the file)")
  boolean skipBad;

  DataSpec.Options apply(DataSpec.Options o) {
    ImageFolder.Fit f = switch (fit) {
      case "crop" -> ImageFolder.Fit.CENTER_CROP;
      case "resize" -> ImageFolder.Fit.RESIZE;
      default -> throw new IllegalArgumentException("--fit must be crop or resize, not '" + fit + "'");
    };
    return o.withFit(f).withOnError(skipBad ? ImageFolder.OnError.SKIP : ImageFolder.OnError.FAIL);
  }
}
