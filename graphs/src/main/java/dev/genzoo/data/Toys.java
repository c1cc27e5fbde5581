package dev.genzoo.data;

import java.util.List;
import java.util.Locale;

/**
 * The toy distributions by name (the {@code NAME} of {@code toy:NAME}):
 * <ul>
 *   <li>{@code 8gaussians}: an equally weighted mixture of eight isotropic 2-D Gaussians with standard deviation 0.2
 *       and means {@code 2 (cos kπ/4, sin kπ/4)}, k = 0..7. Mean 0, covariance {@code (2²/2 + 0.2²) I = 2.04 I}.</li>
 *   <li>{@code bimodal}: the 1-D mixture {@code p(x) = 0.2 N(x; -10, 1) + 0.8 N(x; 10, 1)} of the seeds' lecture
 *       notes (000, "getting insight from toy models": modes a = -10 and b = 10, weight q* = 0.8 on b).</li>
 *   <li>{@code moons}: two interleaving half circles as in scikit-learn's {@code make_moons}, with the angle drawn
 *       uniformly instead of on a grid: with probability 1/2 the upper moon {@code (cos t, sin t)}, else the lower
 *       {@code (1 - cos t, 1/2 - sin t)}, {@code t ~ U[0, π)}, plus Gaussian noise of standard deviation 0.1 on each
 *       coordinate; then centred and scaled by the exact affine map {@code (x, y) -> (4/3) (x - 1/2, y - 1/4)}, which
 *       takes the noiseless moons' mean {@code (1/2, 1/4)} to 0 and their x-range [-1, 2] to [-2, 2] (y-range
 *       [-1/2, 1] to [-1, 1]). No closed-form density.</li>
 *   <li>{@code rings}: four concentric rings of radii 0.5, 1.0, 1.5, 2.0 with equal weight; the angle is uniform and
 *       the radius of ring k is Gaussian with mean R_k and standard deviation 0.08 truncated to r > 0. The exact
 *       density in the plane is {@code p(x) = (1/4) Σ_k φ((r - R_k)/σ) / (σ Φ(R_k/σ)) / (2π r)}, r = |x| (the
 *       radial density divided by the circumference; it has an integrable 1/r singularity at the origin).</li>
 *   <li>{@code checkerboard}: the board of FFJORD (Grathwohl et al., 2019) without its final factor of 2: uniform on
 *       the eight "black" unit squares of the 4 x 4 board [-2, 2)², those {@code [i, i+1) x [j, j+1)} with i + j
 *       even; density 1/8 there and 0 elsewhere.</li>
 * </ul>
 */
public final class Toys {
  private static final List<String> NAMES = List.of("8gaussians", "bimodal", "moons", "rings", "checkerboard");

  private Toys() {}

  /** The valid names, in a fixed order. */
  public static List<String> names() {
    return NAMES;
  }

  /** The toy called {@code name} (case-insensitive); fails listing the valid names. */
  public static ToyDistribution byName(String name) {
    String n = name == null ? "" : name.strip().toLowerCase(Locale.ROOT);
    return switch (n) {
      case "8gaussians" -> new EightGaussians();
      case "bimodal" -> new Bimodal();
      case "moons" -> new Moons();
      case "rings" -> new Rings();
      case "checkerboard" -> new Checkerboard();
      default -> throw new IllegalArgumentException("unknown toy distribution '" + name + "'; valid names: "
          + String.join(", ", NAMES));
    };
  }
}
