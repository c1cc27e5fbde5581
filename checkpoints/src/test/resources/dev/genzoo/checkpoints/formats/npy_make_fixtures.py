#!/usr/bin/python3
"""Writes the NumPy fixtures of NumpyFilesTest and CheckpointsTest with numpy's own writers, and two tiny torch.save
files (zip and legacy) for format detection. The tests hold the same values, written from the formulas below.

Run from this folder: /usr/bin/python3 npy_make_fixtures.py
"""
import collections

import numpy as np
import torch

# 0.5 * [[0, 1], [2, 3], [4, 5]], float32, C order
np.save("npy_f32.npy", (np.arange(6, dtype="<f4") * 0.5).reshape(3, 2))
# big-endian int32
np.save("npy_be_i4.npy", np.array([[1, -2, 3], [400000, -5, 6]], dtype=">i4"))
# float64 [[0, 1, 2], [3, 4, 5]] stored in Fortran order
np.save("npy_fortran_f8.npy", np.asfortranarray(np.arange(6, dtype="<f8").reshape(2, 3)))

arrays = {
    "enc/conv/w": np.array([[1.5, -2.0], [0.25, 8.0]], dtype="<f4"),
    "count": np.array(7, dtype="<i8"),
    "flags": np.array([True, False, False, True]),
    "half": np.array([0.5, -1.0, 2048.0], dtype="<f2"),
    "u8": np.array([0, 255, 3], dtype="u1"),
    "empty": np.zeros((2, 0), dtype="<f8"),
}
np.savez("npy_mixed.npz", **arrays)
np.savez_compressed("npy_mixed_compressed.npz", **arrays)

# torch.save of a small state dict: w = [[0, 1, 2], [3, 4, 5]] float32, b = [1, 2] int64
state = collections.OrderedDict([("w", torch.arange(6, dtype=torch.float32).reshape(2, 3)),
                                 ("b", torch.tensor([1, 2], dtype=torch.int64))])
torch.save(state, "npy_detect_torch_zip.pt")
torch.save(state, "npy_detect_torch_legacy.pt", _use_new_zipfile_serialization=False)
