#!/usr/bin/python3
"""Writes safetensors_fixture.safetensors by hand from the format's specification (numpy + json + struct; no
safetensors package and no genzoo code), and safetensors_expected.npz with the expected values.

Format: an 8-byte little-endian u64 N, N bytes of UTF-8 JSON {name: {"dtype", "shape", "data_offsets": [b, e]},
"__metadata__": {str: str}} padded with spaces, then the byte buffer (offsets relative to its start).
BF16 values come from torch's bfloat16 bit patterns (NumPy has no bfloat16); the .npz stores them as uint16 bits
(key "bf__bits") and as the float32 values they stand for ("bf__f32").

Run from this folder: /usr/bin/python3 safetensors_make_fixture.py
"""
import json
import struct

import numpy as np
import torch

bf_values = torch.tensor([1.0, -3.0, 3.140625, 1e-3], dtype=torch.float32).to(torch.bfloat16)
bf_bits = bf_values.view(torch.int16).numpy().view(np.uint16).reshape(2, 2)

# (name, safetensors dtype, array holding the little-endian bytes), in buffer order
tensors = [
    ("model/conv/weight", "F32", (np.arange(12, dtype="<f4") * 0.25 - 1.0).reshape(2, 3, 1, 2)),
    ("half", "F16", np.array([1.0, -2.0, 65504.0, 2.0 ** -24], dtype="<f2")),
    ("bf", "BF16", bf_bits.astype("<u2")),
    ("step", "I64", np.array(123456789012, dtype="<i8")),
    ("pixels", "U8", np.array([0, 1, 127, 128, 255], dtype="u1")),
    ("mask", "BOOL", np.array([True, False, True], dtype="?")),
    ("empty", "F32", np.zeros((0, 4), dtype="<f4")),
]

entries = {}
buffer = b""
for name, dtype, arr in tensors:
    raw = np.ascontiguousarray(arr).tobytes()
    entries[name] = {"dtype": dtype, "shape": list(arr.shape), "data_offsets": [len(buffer), len(buffer) + len(raw)]}
    buffer += raw

# The JSON lists the entries in another order than the buffer (sorted names, metadata last) to exercise readers.
header = {k: entries[k] for k in sorted(entries)}
header["__metadata__"] = {"format": "pt", "note": "hand-made from the spec"}
text = json.dumps(header).encode("utf-8")
text += b" " * ((8 - len(text) % 8) % 8)
with open("safetensors_fixture.safetensors", "wb") as f:
    f.write(struct.pack("<Q", len(text)))
    f.write(text)
    f.write(buffer)

expected = {name: arr for name, dtype, arr in tensors if dtype != "BF16"}
expected["bf__bits"] = bf_bits.astype("<u2")
expected["bf__f32"] = bf_values.to(torch.float32).numpy().reshape(2, 2)
np.savez("safetensors_expected.npz", **expected)
