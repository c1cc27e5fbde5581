#!/usr/bin/env bash
# Regenerates the reference outputs of the NCSN score networks used by dev.genzoo.graphs.ncsn.RefineNetTest:
# graphs/src/test/resources/dev/genzoo/graphs/ncsn/*.npz, from the PyTorch reimplementation of the authors' networks
# in make_fixtures.py beside them. Needs a Python with torch and numpy (PYTHON, default /usr/bin/python3); takes a few
# seconds on a CPU. The output is deterministic for a given torch version (seeded).
#
#   scripts/make-ncsn-fixtures.sh
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-/usr/bin/python3}
DIR=graphs/src/test/resources/dev/genzoo/graphs/ncsn
"$PYTHON" -c 'import torch, numpy' 2>/dev/null || {
  echo "make-ncsn-fixtures: $PYTHON cannot import torch and numpy; set PYTHON to one that can" >&2
  exit 1
}
"$PYTHON" "$DIR/make_fixtures.py" "$DIR"
