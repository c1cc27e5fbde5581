/**
 * Pictures of genzoo's results, drawn with headless Java2D and written as PNG files atomically.
 *
 * <ul>
 *   <li>{@link dev.genzoo.viz.ImageGrid}: a batch of sampled images as one grid picture;</li>
 *   <li>{@link dev.genzoo.viz.Plots#scatter}: samples of a 2-D model, optionally over the data;</li>
 *   <li>{@link dev.genzoo.viz.Plots#heatmap}: a 2-D density or log-density on a grid, in
 *       {@link dev.genzoo.viz.Viridis};</li>
 *   <li>{@link dev.genzoo.viz.Plots#lines}: training curves, with {@link dev.genzoo.viz.Smoothing} for noisy
 *       losses;</li>
 *   <li>{@link dev.genzoo.viz.Ticks}: nice tick values and labels.</li>
 * </ul>
 *
 * <p>Every plot comes back as a {@link dev.genzoo.viz.Figure}: the picture and the data-to-pixel mapping, so that tests
 * and callers can find a data point's pixel.
 */
package dev.genzoo.viz;
