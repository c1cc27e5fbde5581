#!/usr/bin/python3
"""Writes the bundle fixtures with Python's own json, hashlib, tarfile and gzip (an independent implementation).

Run from this folder with Debian's /usr/bin/python3 (numpy needed):
    /usr/bin/python3 make_fixtures.py

model-v1.json            a format_version 1 manifest, formatted the way genzoo writes it (2-space indent, "key": value)
python-flat.tar.gz       the bundle as `tar -C bundle -czf x.tar.gz .` would pack it: "./" entries, owner names, mtimes
python-toplevel.tar.gz   the same files under one top-level folder "flow-toy/", with folder entries
BundleFixtureTest checks that genzoo parses, re-serialises (byte for byte), unpacks and verifies them.
"""
import gzip
import hashlib
import io
import json
import tarfile

import numpy as np

# Opaque checkpoint bytes: the data shard is float32 0.5 * [0, 1, ..., 999] little-endian, so the Java test can
# rebuild the expected bytes from the math.
DATA = (0.5 * np.arange(1000, dtype=np.float32)).astype("<f4").tobytes()
INDEX = b"genzoo test fixture: stands in for a tensor bundle index\n" * 3
README = "samples written by make_fixtures.py\n".encode("utf-8")
FILES = {
    "variables.index": INDEX,
    "variables.data-00000-of-00001": DATA,
    "samples/README.txt": README,
}


def manifest():
    files = {
        path: {"sha256": hashlib.sha256(body).hexdigest(), "size": len(body)}
        for path, body in sorted(FILES.items())
    }
    return {
        "format": "genzoo-bundle",
        "format_version": 1,
        "name": "flow-toy",
        "family": "flow",
        "step": 1500,
        "config": {
            "kind": "realnvp",
            "dims": 2,
            "hidden": [64, 64],
            "coupling_layers": 8,
            "learning_rate": 0.01,
            "actnorm": True,
        },
        "provenance": {
            "command": "genzoo train flow --preset toy2d --data toy:moons --steps 1500 --out flow-toy",
            "data": "toy:moons",
            "seed": 1234,
            "parent": {"name": "flow-base", "sha256": hashlib.sha256(b"parent model.json").hexdigest()},
            "created": "2024-05-01T12:00:00Z",
            "genzoo_version": "0.1.0",
            "notes": {"host": "fixture", "purpose": "cross-implementation test"},
        },
        "metrics": {
            "nll_test": {"value": 1.5, "unit": "nats", "protocol": "exact log-likelihood, 10000 test points"},
        },
        "files": files,
    }


def write_tar_gz(path, prefix, folder_entries):
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.GNU_FORMAT) as tar:
        if folder_entries:
            info = tarfile.TarInfo(prefix.rstrip("/") or ".")
            info.type = tarfile.DIRTYPE
            info.mode = 0o755
            info.mtime = 1714564800
            info.uname, info.gname = "alice", "staff"
            tar.addfile(info)
        members = dict(FILES)
        members["model.json"] = MODEL_JSON
        if folder_entries:
            info = tarfile.TarInfo(prefix + "samples")
            info.type = tarfile.DIRTYPE
            info.mode = 0o755
            info.mtime = 1714564800
            tar.addfile(info)
        for name, body in members.items():  # not sorted: genzoo must not rely on the order
            info = tarfile.TarInfo(prefix + name)
            info.size = len(body)
            info.mode = 0o600
            info.mtime = 1714564800
            info.uid, info.gid = 1000, 1000
            info.uname, info.gname = "alice", "staff"
            tar.addfile(info, io.BytesIO(body))
    with open(path, "wb") as f, gzip.GzipFile(fileobj=f, mode="wb", mtime=0, filename="") as gz:
        gz.write(raw.getvalue())


MODEL_JSON = (json.dumps(manifest(), indent=2, separators=(",", ": "), ensure_ascii=False) + "\n").encode("utf-8")

with open("model-v1.json", "wb") as f:
    f.write(MODEL_JSON)
write_tar_gz("python-flat.tar.gz", "./", folder_entries=True)
write_tar_gz("python-toplevel.tar.gz", "flow-toy/", folder_entries=True)
