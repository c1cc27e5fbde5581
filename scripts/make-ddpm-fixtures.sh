#!/usr/bin/env bash
# Regenerates the golden-output fixtures of genzoo's DDPM U-Net (graphs' dev.genzoo.graphs.ddpm tests) with the
# PyTorch peer tools/.../bench/ddpm_torch.py: a tiny U-Net (ch 32, ch_mult 1 2, one block per level, attention at
# 4x4, 8x8x3 images) with every parameter drawn from N(0, 0.05^2), its inputs and its output, unconditional and
# class-conditional (10 classes). Needs Debian's /usr/bin/python3 with python3-torch and numpy; a few seconds.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=/usr/bin/python3
SCRIPT=tools/src/main/resources/dev/genzoo/tools/bench/ddpm_torch.py
OUT=graphs/src/test/resources/dev/genzoo/graphs/ddpm
mkdir -p "$OUT"
tiny=(--ch 32 --ch-mult 1 2 --num-res-blocks 1 --attn-res 4 --image 8 8 3 --dropout 0.1 --seed 0)
"$PY" "$SCRIPT" "${tiny[@]}" --num-classes 0 --check --fixture "$OUT/unet_tiny.npz"
"$PY" "$SCRIPT" "${tiny[@]}" --num-classes 10 --fixture "$OUT/unet_tiny_cond.npz"
