#!/usr/bin/python3
"""Reference values of dev.genzoo.data.Seeds.mix, computed from the formula in its class comment with Python's
unbounded integers (masked to 64 bits), independently of the Java code. Writes reference.txt beside this script:
one line per case, "seed part... -> result", all as signed 64-bit decimals.

    /usr/bin/python3 make_reference.py
"""
import os

MASK = (1 << 64) - 1
GAMMA = 0x9E3779B97F4A7C15


def z(x):
    x &= MASK
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & MASK
    return x ^ (x >> 31)


def mix(seed, *parts):
    h = seed & MASK
    for p in parts:
        h = z(h + GAMMA) ^ (p & MASK)
    return z(h + GAMMA)


def signed(x):
    return x - (1 << 64) if x >= 1 << 63 else x


def tag(name):
    t = 0
    for ch in name:
        t = (t << 8) | ord(ch)
    return t


CASES = [
    (0,),
    (1,),
    (-1,),
    (42, 0),
    (42, 1),
    (42, 1, 2),
    (42, 2, 1),
    (12345, tag("perm"), 0),
    (12345, tag("perm"), 7),
    (12345, tag("augment"), 1000000),
    (-9223372036854775808, 9223372036854775807, -5),
]

if __name__ == "__main__":
    with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "reference.txt"), "w") as f:
        for case in CASES:
            f.write("%s -> %d\n" % (" ".join(str(v) for v in case), signed(mix(*case))))
