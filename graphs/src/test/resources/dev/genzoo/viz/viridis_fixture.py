#!/usr/bin/python3
"""Reference colours of matplotlib's viridis colour map, for dev.genzoo.viz.ViridisTest.

Run with Debian's /usr/bin/python3 (matplotlib 3.6.3 was used):
    /usr/bin/python3 viridis_fixture.py            # writes viridis.csv beside this script
    /usr/bin/python3 viridis_fixture.py --java     # prints the 256-entry table encoded in Viridis.java

viridis.csv has one row per probe value t: t written with repr (round-trips exactly to a Java double), then the
8-bit red, green and blue that matplotlib gives for it (matplotlib.colors.to_hex(cmap(t)), i.e. round(255 * channel)).
Matplotlib maps a float t in [0, 1] to table entry floor(256 t), with t = 1 going to entry 255.
"""
import os
import sys

import numpy as np
import matplotlib
from matplotlib import colors

cmap = matplotlib.colormaps["viridis"]
assert cmap.N == 256


def rgb8(t):
    h = colors.to_hex(cmap(t))
    return int(h[1:3], 16), int(h[3:5], 16), int(h[5:7], 16)


if "--java" in sys.argv:
    entries = ["0x%02x%02x%02x" % rgb8(k / 255.0 if k < 255 else 1.0) for k in range(256)]
    # k / 255 lands inside entry k (floor(256 k / 255) == k for k < 255).
    for i in range(0, 256, 8):
        print("      " + ", ".join(entries[i:i + 8]) + ",")
    sys.exit(0)

rng = np.random.default_rng(20240607)
probes = [0.0, 1.0, 0.5, 0.25, 0.75, 1.0 / 256, 255.0 / 256, 0.999999, 1e-9]
probes += [k / 256.0 for k in range(0, 257, 17)]            # exact entry boundaries
probes += [k / 256.0 - 1e-12 for k in range(1, 256, 23)]   # just below a boundary
probes += [float(t) for t in rng.random(120)]

out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "viridis.csv")
with open(out, "w") as f:
    f.write("# t,r,g,b from matplotlib %s viridis; made by viridis_fixture.py\n" % matplotlib.__version__)
    for t in probes:
        r, g, b = rgb8(t)
        f.write("%r,%d,%d,%d\n" % (t, r, g, b))
print("wrote", out, len(probes), "rows")
