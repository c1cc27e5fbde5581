#!/usr/bin/env python3
"""Reference autoregressive masks for dev.genzoo.graphs.nvae.ArFlowTest.

A numpy reading of the masked convolutions of NVAE's inverse autoregressive flow cells (Vahdat & Kautz 2020, appendix;
upstream neural_ar_operations.py, create_conv_mask and channel_mask), written from their description:

- the mask has PyTorch's weight layout [c_out, c_in / groups, k, k]; with m = (k - 1) // 2 the centre, every tap in
  the rows above the centre row and left of the centre in the centre row is on, every tap right of or below the centre
  is off (raster order over space);
- the centre tap holds the channel mask: for a dense convolution (groups = 1) with c_out >= c_in (r = c_out / c_in),
  output block i (outputs i r .. (i + 1) r - 1) sees input channels 0 .. i, or 0 .. i - 1 with zero_diag; with
  c_out < c_in (r = c_in / c_out), output i sees input channels 0 .. (i + 1) r - 1, or 0 .. i r - 1 with zero_diag;
  for a depthwise convolution (groups = c_in) the centre is on, or off with zero_diag;
- mirror flips the whole mask in both spatial axes (reversed raster order; the channel order is kept).

arflow_masks.npz holds, for each case (k, c_in, groups, c_out, zero_diag, mirror) of CASES, the mask under the key
k{k}_i{c_in}_g{groups}_o{c_out}_zd{0|1}_mi{0|1} (float64, [c_out, c_in / groups, k, k]), and 'cases' [n, 6] (float64).

Run: /usr/bin/python3 arflow_make_masks.py   (numpy only; writes arflow_masks.npz beside this script)
"""
import os

import numpy as np

# (k, c_in, groups, c_out, zero_diag, mirror); the first six are the convolutions of a cell with 4 latent channels
CASES = [
    (3, 4, 1, 24, True, False),
    (3, 4, 1, 24, True, True),
    (5, 24, 24, 24, False, False),
    (5, 24, 24, 24, False, True),
    (1, 24, 1, 4, False, False),
    (1, 24, 1, 4, False, True),
    (3, 6, 1, 2, True, False),
    (3, 6, 1, 2, False, True),
    (3, 3, 1, 3, False, True),
    (5, 2, 1, 6, False, False),
    (3, 4, 4, 4, True, False),
    (7, 2, 1, 2, True, True),
]


def centre_channels(c_in, groups, c_out, zero_diag):
    """The [c_out, c_in / groups] on/off pattern of the centre tap."""
    if groups == c_in:
        return np.full((c_out, 1), 0.0 if zero_diag else 1.0)
    assert groups == 1
    out_idx = np.arange(c_out)[:, None]
    in_idx = np.arange(c_in)[None, :]
    if c_out >= c_in:
        assert c_out % c_in == 0
        block = out_idx // (c_out // c_in)      # the input channel an output block is attached to
        last = block - 1 if zero_diag else block  # the last input channel it may see
        return (in_idx <= last).astype(np.float64)
    assert c_in % c_out == 0
    r = c_in // c_out
    bound = out_idx * r if zero_diag else (out_idx + 1) * r  # inputs strictly below the bound are seen
    return (in_idx < bound).astype(np.float64)


def conv_mask(k, c_in, groups, c_out, zero_diag, mirror):
    assert k % 2 == 1
    m = (k - 1) // 2
    rows = np.arange(k)[:, None]
    cols = np.arange(k)[None, :]
    before = (rows < m) | ((rows == m) & (cols < m))  # taps strictly before the centre in raster order
    mask = np.broadcast_to(before.astype(np.float64), (c_out, c_in // groups, k, k)).copy()
    mask[:, :, m, m] = centre_channels(c_in, groups, c_out, zero_diag)
    if mirror:
        mask = mask[:, :, ::-1, ::-1].copy()
    return mask


def key(case):
    k, ci, g, co, zd, mi = case
    return "k%d_i%d_g%d_o%d_zd%d_mi%d" % (k, ci, g, co, int(zd), int(mi))


def main():
    arrays = {"cases": np.array([[float(v) for v in c] for c in CASES])}
    for case in CASES:
        arrays[key(case)] = conv_mask(*case)
    # a hand-checked example: the 3 x 3, 1 -> 2 mask with zero_diag sees only the four taps before the centre
    small = conv_mask(3, 1, 1, 2, True, False)
    assert small.sum() == 8 and small[0, 0, 1, 1] == 0 and small[0, 0, 0, 2] == 1 and small[0, 0, 1, 2] == 0
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "arflow_masks.npz")
    np.savez(path, **arrays)
    print("wrote", path, len(CASES), "cases")


if __name__ == "__main__":
    main()
