#!/usr/bin/python3
"""NumPy fixtures for dev.genzoo.data.NpyTest, and the check of the files the Java side writes.

    /usr/bin/python3 make_fixtures.py            # (re)writes the fixtures beside this script
    /usr/bin/python3 make_fixtures.py --check D  # reads the files NpyTest wrote to D with numpy, exits 1 on mismatch

Every array is a closed formula of small exact values, so the Java test restates the same formula and asserts
exact equality. Written with numpy 1.24 (np.save / np.lib.format.write_array / np.savez / np.savez_compressed).
"""
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))

HALF_VALUES = [0.0, 1.0, -2.0, 0.5, 65504.0, 2.0 ** -24, 2.0 ** -14, np.inf, -np.inf, -0.0, 1.0 + 2.0 ** -10]


def arrays():
    """name -> array written with np.save (format 1.0)."""
    a = {}
    a["f4_c"] = np.arange(24, dtype="<f4").reshape(2, 3, 4) / np.float32(8) - np.float32(1)
    a["f4_big"] = (np.arange(6, dtype="<f4").reshape(2, 3) * np.float32(0.25)).astype(">f4")
    a["f8_little"] = np.arange(-3, 3, dtype="<f8") / 16.0
    a["f8_big"] = (np.arange(-3, 3, dtype="<f8") / 16.0).astype(">f8")
    # Fortran order: np.save keeps it (fortran_order True); element (i, j, k) of both is i*12 + j*4 + k.
    a["f8_fortran"] = np.asfortranarray(np.arange(24, dtype="<f8").reshape(2, 3, 4))
    a["u1_fortran"] = np.asfortranarray(np.arange(12, dtype="|u1").reshape(3, 4))
    a["i4_little"] = np.array([-3, -2, -1, 0, 1, 2, 2147483647, -2147483648], dtype="<i4")
    a["i4_big"] = a["i4_little"].astype(">i4")
    a["i8_little"] = np.array([-(2 ** 40), -1, 0, 1, 2 ** 40 + 3, 2 ** 62], dtype="<i8")
    a["i8_big"] = a["i8_little"].astype(">i8")
    a["i2_little"] = np.array([-32768, -1, 0, 1, 32767], dtype="<i2")
    a["u2_big"] = np.array([0, 1, 255, 256, 65535], dtype=">u2")
    a["u4_little"] = np.array([0, 1, 4294967295], dtype="<u4")
    a["u8_little"] = np.array([0, 1, 2 ** 53], dtype="<u8")
    a["u1"] = np.arange(256, dtype="|u1").reshape(16, 16)
    a["i1"] = np.arange(-128, 128, dtype="|i1")
    a["b1"] = np.array([True, False, True, True, False], dtype="|b1")
    a["f2_little"] = np.array(HALF_VALUES, dtype="<f2")
    a["f2_big"] = np.array(HALF_VALUES, dtype=">f2")
    a["scalar"] = np.array(3.5, dtype="<f8")
    a["empty"] = np.zeros((0, 3), dtype="<f4")
    # DataSpec npy: points (N, D) and images (N, H, W, C) / (N, H, W).
    a["points"] = (np.arange(10, dtype="<f4").reshape(5, 2) - np.float32(4.5)) / np.float32(2)
    a["images_nhwc"] = (np.arange(2 * 3 * 4 * 3) % 256).astype("|u1").reshape(2, 3, 4, 3)
    a["images_nhw"] = (np.arange(2 * 3 * 4) * 7 % 256).astype("|u1").reshape(2, 3, 4)
    a["int_matrix"] = np.arange(6, dtype="<i8").reshape(3, 2)
    a["complex"] = np.array([1 + 2j], dtype="<c8")
    a["structured"] = np.zeros(2, dtype=[("x", "<f4"), ("y", "<i4")])
    return a


def write_fixtures():
    for name, arr in arrays().items():
        np.save(os.path.join(HERE, name + ".npy"), arr)
    v2 = np.arange(12, dtype="<f4").reshape(3, 4) - np.float32(5.5)
    for version in [(2, 0), (3, 0)]:
        with open(os.path.join(HERE, "f4_v%d.npy" % version[0]), "wb") as f:
            np.lib.format.write_array(f, v2, version=version)
    # Truncated: the f4_c file without its last 8 bytes.
    with open(os.path.join(HERE, "f4_c.npy"), "rb") as f:
        whole = f.read()
    with open(os.path.join(HERE, "truncated.npy"), "wb") as f:
        f.write(whole[:-8])
    # Trailing bytes: the header says (2, 3, 4) but 4 more bytes follow.
    with open(os.path.join(HERE, "trailing.npy"), "wb") as f:
        f.write(whole + b"\0\0\0\0")
    a = arrays()
    np.savez(os.path.join(HERE, "stored.npz"), x=a["f4_c"], n=a["i8_little"], flags=a["b1"])
    np.savez_compressed(os.path.join(HERE, "deflated.npz"), points=a["points"], pixels=a["u1"], half=a["f2_big"])


def expected_java():
    """What NpyTest.javaWrittenFilesReadByNumpy writes (same formulas on the Java side)."""
    return {
        "java_f4.npy": np.arange(6, dtype="<f4").reshape(2, 3) / np.float32(4) - np.float32(0.5),
        "java_f8.npy": np.arange(5, dtype="<f8") / 8.0 - 0.25,
        "java_u1.npy": (np.arange(2 * 2 * 2 * 3) * 11 % 256).astype("|u1").reshape(2, 2, 2, 3),
        "java_i8.npy": np.array([-(2 ** 40), -1, 0, 7, 2 ** 62], dtype="<i8"),
        "java_scalar.npy": np.array(2.25, dtype="<f8"),
    }


def check(directory):
    ok = True
    exp = expected_java()
    for name, want in exp.items():
        got = np.load(os.path.join(directory, name))
        if got.dtype != want.dtype or got.shape != want.shape or not np.array_equal(got, want):
            print("MISMATCH %s: got %s %s %r" % (name, got.dtype, got.shape, got))
            ok = False
    for npz, compressed in [("java_stored.npz", False), ("java_deflated.npz", True)]:
        with np.load(os.path.join(directory, npz)) as z:
            if list(z.keys()) != ["f4", "u1"]:
                print("MISMATCH %s keys %s" % (npz, list(z.keys())))
                ok = False
                continue
            for key, ref in [("f4", exp["java_f4.npy"]), ("u1", exp["java_u1.npy"])]:
                if z[key].dtype != ref.dtype or not np.array_equal(z[key], ref):
                    print("MISMATCH %s[%s]" % (npz, key))
                    ok = False
        import zipfile
        with zipfile.ZipFile(os.path.join(directory, npz)) as zf:
            methods = {i.compress_type for i in zf.infolist()}
            want_method = zipfile.ZIP_DEFLATED if compressed else zipfile.ZIP_STORED
            if methods != {want_method}:
                print("MISMATCH %s compression %s" % (npz, methods))
                ok = False
    print("numpy check " + ("OK" if ok else "FAILED"))
    return ok


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--check":
        sys.exit(0 if check(sys.argv[2]) else 1)
    write_fixtures()
