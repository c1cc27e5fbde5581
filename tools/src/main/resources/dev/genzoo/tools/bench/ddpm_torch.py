#!/usr/bin/python3
"""PyTorch peer of genzoo's DDPM benchmark, and the writer of the golden-output fixture of genzoo's U-Net.

Builds the noise-prediction U-Net of Ho, Jain & Abbeel 2020 ("Denoising Diffusion Probabilistic Models",
arXiv:2006.11239) exactly as the authors' TensorFlow code defines it (diffusion_tf/models/unet.py; the
pesser/pytorch_diffusion port is the same network), parametrised by width, channel multipliers, residual blocks
per level and attention resolutions, optionally class-conditional. It times one training step (the simple
epsilon-prediction loss, backward, gradient clipping to global norm 1, Adam) and one ancestral sampling step,
and prints one JSON line. genzoo's `bench` command extracts this file from its jar, runs it with
/usr/bin/python3 and reports the ratio beside its own timing of the same architecture.

The network (genzoo's DDPM U-Net follows the same text; NHWC there, NCHW here, which changes neither the
parameter counts nor the MACs):
  temb  = dense1(swish(dense0(sinusoid(t, ch))))                  dense0: ch -> 4ch, dense1: 4ch -> 4ch
          sinusoid: half = ch // 2, f_k = exp(-log(10000) k / (half - 1)), [sin(t f), cos(t f)]
          (class-conditional: temb += label_emb[y], an embedding of num_classes + 1 rows; row num_classes
          is the "no label" of classifier-free guidance)
  h = conv_in(x) (3x3, C -> ch); hs = [h]
  level i = 0 .. L-1:  num_res_blocks x [h = ResnetBlock(h, out ch*ch_mult[i]); attention if the
          resolution is in attn_res; hs += h]; if i < L-1: h = downsample(h) (3x3 stride-2 conv, TensorFlow
          "SAME" padding: one row/column of zeros after, none before); hs += h
  mid: ResnetBlock, AttnBlock, ResnetBlock
  level i = L-1 .. 0:  (num_res_blocks + 1) x [h = ResnetBlock(concat(h, hs.pop()), out ch*ch_mult[i]);
          attention if the resolution is in attn_res]; if i > 0: nearest 2x upsampling, then a 3x3 conv
  out = conv_out(swish(norm_out(h)))  (3x3, ch -> C)
  ResnetBlock(in, out): h = conv1(swish(norm1(x))); h += temb_proj(swish(temb)); h = conv2(dropout(swish(
          norm2(h)))); return (nin_shortcut(x) if in != out else x) + h
  AttnBlock(C): h = norm(x); q, k, v = nin(h); w = softmax over the H*W keys of q.k * C^-0.5;
          return x + proj_out(sum_k w v)
  GroupNorm: 32 groups, eps 1e-6, affine; swish(x) = x sigmoid(x); nin = a dense layer over channels.
The resolution compared with attn_res is the feature map's height (the reference code's h.shape[1]).

Usage:
  ddpm_torch.py --image H W C --batch B --threads T --warmup N1 --iters N2
                [--ch 128] [--ch-mult 1 2 2 2] [--num-res-blocks 2] [--attn-res 16 ...] [--dropout 0.1]
                [--num-classes 0] [--seed 0] [--check] [--bf16]
  ddpm_torch.py --image H W C [architecture options] [--seed S] [--check] --fixture OUT.npz

The last line on stdout is the JSON result; --check runs self-checks first (one "check ..." line each) and
exits with status 1 if any fails. Bad arguments exit with status 2 and a one-line reason on stderr.

--fixture writes, instead of benchmarking, the golden output of a randomly initialised network (every
parameter N(0, 0.05^2), GroupNorm gammas 1 + N(0, 0.05^2)) in eval mode, as an uncompressed .npz of float32
arrays: every parameter under its genzoo checkpoint name (scope "unet") in TensorFlow layout (conv kernels HWIO,
dense and nin kernels [in, out]), `input/x` [4, H, W, C] NHWC, `input/t` [4] int32, `input/labels` [4] int32
(class-conditional only; includes the "no label" index num_classes), `output/eps` [4, H, W, C] NHWC and
`meta/param_count` (int64 scalar). The output is computed in float64 from the float32-rounded parameters and
inputs, then rounded to float32.
"""

import argparse
import json
import math
import os
import re
import statistics
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

NUM_GROUPS = 32
GN_EPS = 1e-6
T_STEPS = 1000
BETA_1, BETA_T = 1e-4, 0.02


# --------------------------------------------------------------------------------------------------
# MAC counting: every convolution, nin (dense over channels) and attention matmul adds
# k*k*in*out*H_out*W_out (convolutions and nins) or H*W*H*W*C (each of the two attention products) per image,
# times the batch, to the active counter. The timestep-embedding dense layers and the per-block temb projections (a few
# per-image vector-matrix products) are not counted.

class MacCounter:
    """Counts multiply-accumulates of the operations run while it is active (a context manager)."""

    active = None

    def __init__(self):
        self.total = 0

    def __enter__(self):
        MacCounter.active = self
        return self

    def __exit__(self, *exc):
        MacCounter.active = None
        return False


def count_macs(batch, per_image):
    counter = MacCounter.active
    if counter is not None:
        counter.total += batch * per_image


# --------------------------------------------------------------------------------------------------
# Layers. Parameters are kept in PyTorch layout (conv OIHW, dense/nin [out, in]); export_tf() converts.

def swish(x):
    return x * torch.sigmoid(x)


class Conv(nn.Module):
    """3x3 convolution with bias; stride 1 with one pixel of zeros around ("SAME"), or stride 2 with TensorFlow's
    "SAME" padding on even sizes: one row/column of zeros after (bottom/right), none before."""

    def __init__(self, in_ch, out_ch, stride=1, k=3):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(out_ch, in_ch, k, k))
        self.bias = nn.Parameter(torch.zeros(out_ch))
        self.stride = stride
        self.k = k

    def forward(self, x):
        if self.stride == 1:
            y = F.conv2d(x, self.weight, self.bias, padding=self.k // 2)
        else:
            y = F.conv2d(F.pad(x, (0, 1, 0, 1)), self.weight, self.bias, stride=2)
        out_c, in_c, kh, kw = self.weight.shape
        count_macs(x.shape[0], kh * kw * in_c * out_c * y.shape[2] * y.shape[3])
        return y


class Nin(nn.Module):
    """A dense layer over the channels of every pixel (the reference code's nn.nin): weight [out, in] + bias."""

    def __init__(self, in_ch, out_ch):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(out_ch, in_ch))
        self.bias = nn.Parameter(torch.zeros(out_ch))

    def forward(self, x):
        out_c, in_c = self.weight.shape
        count_macs(x.shape[0], in_c * out_c * x.shape[2] * x.shape[3])
        return F.conv2d(x, self.weight.view(out_c, in_c, 1, 1), self.bias)


class Dense(nn.Module):
    """A dense layer on vectors: weight [out, in] + bias."""

    def __init__(self, in_ch, out_ch):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(out_ch, in_ch))
        self.bias = nn.Parameter(torch.zeros(out_ch))

    def forward(self, x):
        return F.linear(x, self.weight, self.bias)


class GroupNorm(nn.Module):
    """GroupNorm with 32 groups, eps 1e-6 (biased variance), per-channel gamma and beta."""

    def __init__(self, channels):
        super().__init__()
        self.gamma = nn.Parameter(torch.ones(channels))
        self.beta = nn.Parameter(torch.zeros(channels))

    def forward(self, x):
        # Under --bf16, x may arrive in bfloat16; CPU autocast in torch 1.13 leaves group_norm out of its lists
        # (and then fails on bfloat16 input with float32 gamma), so it runs in the parameters' float32, as CUDA
        # autocast's fp32 list does.
        return F.group_norm(x.to(self.gamma.dtype), NUM_GROUPS, self.gamma, self.beta, GN_EPS)


def timestep_embedding(t, dim, dtype=torch.float32):
    """The reference code's get_timestep_embedding: [sin(t f), cos(t f)], f_k = exp(-log(10000) k / (half - 1)),
    computed in dtype (float32 in the reference code; float64 for the fixture's golden output)."""
    half = dim // 2
    freqs = torch.exp(torch.arange(half, dtype=dtype) * -(math.log(10000.0) / (half - 1)))
    emb = t.to(dtype)[:, None] * freqs[None, :]
    emb = torch.cat([torch.sin(emb), torch.cos(emb)], dim=1)
    if dim % 2 == 1:
        emb = F.pad(emb, (0, 1))
    return emb


class ResnetBlock(nn.Module):
    def __init__(self, in_ch, out_ch, temb_ch, dropout):
        super().__init__()
        self.norm1 = GroupNorm(in_ch)
        self.conv1 = Conv(in_ch, out_ch)
        self.temb_proj = Dense(temb_ch, out_ch)
        self.norm2 = GroupNorm(out_ch)
        self.dropout = nn.Dropout(dropout)
        self.conv2 = Conv(out_ch, out_ch)
        self.nin_shortcut = Nin(in_ch, out_ch) if in_ch != out_ch else None

    def forward(self, x, temb):
        h = self.conv1(swish(self.norm1(x)))
        h = h + self.temb_proj(swish(temb))[:, :, None, None]
        h = self.conv2(self.dropout(swish(self.norm2(h))))
        if self.nin_shortcut is not None:
            x = self.nin_shortcut(x)
        return x + h


class AttnBlock(nn.Module):
    def __init__(self, channels):
        super().__init__()
        self.norm = GroupNorm(channels)
        self.q = Nin(channels, channels)
        self.k = Nin(channels, channels)
        self.v = Nin(channels, channels)
        self.proj_out = Nin(channels, channels)

    def forward(self, x):
        b, c, hh, ww = x.shape
        h = self.norm(x)
        q = self.q(h).reshape(b, c, hh * ww)
        k = self.k(h).reshape(b, c, hh * ww)
        v = self.v(h).reshape(b, c, hh * ww)
        w = torch.bmm(q.transpose(1, 2), k) * (int(c) ** (-0.5))  # [b, query, key]
        w = torch.softmax(w, dim=2)
        h = torch.bmm(v, w.transpose(1, 2)).reshape(b, c, hh, ww)  # h[c, query] = sum_key v[c, key] w[query, key]
        count_macs(b, 2 * (hh * ww) * (hh * ww) * c)
        return x + self.proj_out(h)


class Level(nn.Module):
    """One resolution of the down or up path: its residual blocks, their attention blocks (if any), and the
    down- or upsampling convolution (absent on the last level down and the first level up)."""

    def __init__(self):
        super().__init__()
        self.block = nn.ModuleList()
        self.attn = nn.ModuleList()


class Mid(nn.Module):
    def __init__(self, channels, temb_ch, dropout):
        super().__init__()
        self.block_1 = ResnetBlock(channels, channels, temb_ch, dropout)
        self.attn_1 = AttnBlock(channels)
        self.block_2 = ResnetBlock(channels, channels, temb_ch, dropout)


class Resample(nn.Module):
    """Holds the conv of down- and upsampling, so that its checkpoint name is .../downsample/conv/..."""

    def __init__(self, channels, stride):
        super().__init__()
        self.conv = Conv(channels, channels, stride=stride)


class UNet(nn.Module):
    def __init__(self, ch, ch_mult, num_res_blocks, attn_res, dropout, image_hw, in_ch, num_classes):
        super().__init__()
        self.ch = ch
        self.ch_mult = tuple(ch_mult)
        self.num_res_blocks = num_res_blocks
        self.attn_res = tuple(attn_res)
        self.num_classes = num_classes
        temb_ch = 4 * ch
        self.temb = nn.ModuleDict({"dense0": Dense(ch, temb_ch), "dense1": Dense(temb_ch, temb_ch)})
        self.label_emb = nn.Embedding(num_classes + 1, temb_ch) if num_classes > 0 else None
        self.conv_in = Conv(in_ch, ch)
        levels = len(ch_mult)
        res = image_hw[0]
        hs_ch = [ch]
        cur = ch
        self.down = nn.ModuleList()
        for i in range(levels):
            level = Level()
            out = ch * ch_mult[i]
            for _ in range(num_res_blocks):
                level.block.append(ResnetBlock(cur, out, temb_ch, dropout))
                cur = out
                if res in attn_res:
                    level.attn.append(AttnBlock(cur))
                hs_ch.append(cur)
            if i != levels - 1:
                level.downsample = Resample(cur, 2)
                hs_ch.append(cur)
                res //= 2
            self.down.append(level)
        self.mid = Mid(cur, temb_ch, dropout)
        ups = []
        for i in reversed(range(levels)):
            level = Level()
            out = ch * ch_mult[i]
            for _ in range(num_res_blocks + 1):
                level.block.append(ResnetBlock(cur + hs_ch.pop(), out, temb_ch, dropout))
                cur = out
                if res in attn_res:
                    level.attn.append(AttnBlock(cur))
            if i != 0:
                level.upsample = Resample(cur, 1)
                res *= 2
            ups.insert(0, level)
        assert not hs_ch
        self.up = nn.ModuleList(ups)  # up[i] is level i, built (and run) from the last level to the first
        self.norm_out = GroupNorm(cur)
        self.conv_out = Conv(cur, in_ch)

    def forward(self, x, t, labels=None):
        temb = timestep_embedding(t, self.ch, torch.float64 if x.dtype == torch.float64 else torch.float32)
        temb = self.temb["dense1"](swish(self.temb["dense0"](temb)))
        if self.label_emb is not None:
            if labels is None:
                labels = torch.full((x.shape[0],), self.num_classes, dtype=torch.long)
            temb = temb + self.label_emb(labels.long())
        hs = [self.conv_in(x)]
        for i, level in enumerate(self.down):
            for j, block in enumerate(level.block):
                h = block(hs[-1], temb)
                if len(level.attn):
                    h = level.attn[j](h)
                hs.append(h)
            if hasattr(level, "downsample"):
                hs.append(level.downsample.conv(hs[-1]))
        h = hs[-1]
        h = self.mid.block_1(h, temb)
        h = self.mid.attn_1(h)
        h = self.mid.block_2(h, temb)
        for i in reversed(range(len(self.up))):
            level = self.up[i]
            for j, block in enumerate(level.block):
                h = block(torch.cat([h, hs.pop()], dim=1), temb)
                if len(level.attn):
                    h = level.attn[j](h)
            if hasattr(level, "upsample"):
                h = F.interpolate(h, scale_factor=2, mode="nearest")
                h = level.upsample.conv(h)
        assert not hs
        return self.conv_out(swish(self.norm_out(h)))

    def export_tf(self):
        """{genzoo checkpoint name: float32 numpy array in TensorFlow layout} for every parameter."""
        modules = dict(self.named_modules())
        out = {}
        for name, p in self.named_parameters():
            owner_name, leaf = name.rsplit(".", 1)
            owner = modules[owner_name]
            a = p.detach().to(torch.float64).cpu().numpy()
            if isinstance(owner, Conv) and leaf == "weight":
                leaf, a = "kernel", a.transpose(2, 3, 1, 0)  # OIHW -> HWIO
            elif isinstance(owner, (Dense, Nin)) and leaf == "weight":
                leaf, a = "kernel", a.T  # [out, in] -> [in, out]
            elif isinstance(owner, nn.Embedding):
                leaf = "embeddings"
            tf_name = re.sub(r"\b(down|up|block|attn)\.(\d+)", r"\1_\2", owner_name).replace(".", "/")
            out[f"unet/{tf_name}/{leaf}"] = np.ascontiguousarray(a.astype(np.float32))
        return out


def default_init(model):
    """The reference code's initialisation: variance scaling (fan_avg, uniform, scale 1) for every kernel, scale
    1e-10 (its "0") for conv2 of the residual blocks, proj_out of attention and conv_out; zero biases; GroupNorm
    gamma 1, beta 0. The label embedding (not in the reference code) gets N(0, 1)."""
    zero_scaled = set()
    for m in model.modules():
        if isinstance(m, ResnetBlock):
            zero_scaled.add(id(m.conv2))
        elif isinstance(m, AttnBlock):
            zero_scaled.add(id(m.proj_out))
    zero_scaled.add(id(model.conv_out))
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, (Conv, Nin, Dense)):
                w = m.weight
                receptive = w.shape[2] * w.shape[3] if w.dim() == 4 else 1
                fan_avg = (w.shape[0] + w.shape[1]) * receptive / 2.0
                scale = 1e-10 if id(m) in zero_scaled else 1.0
                limit = math.sqrt(3.0 * scale / fan_avg)
                w.uniform_(-limit, limit)
                m.bias.zero_()
            elif isinstance(m, nn.Embedding):
                nn.init.normal_(m.weight)


def fixture_init(model, generator):
    """Every parameter N(0, 0.05^2), GroupNorm gammas 1 + N(0, 0.05^2), so that every weight matters."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            noise = 0.05 * torch.randn(p.shape, generator=generator, dtype=torch.float64)
            p.copy_((noise + 1.0 if name.endswith("gamma") else noise).to(p.dtype))


def build(args, image_hw=None, in_ch=None):
    h, w, c = args.image
    return UNet(args.ch, args.ch_mult, args.num_res_blocks, args.attn_res, args.dropout,
                image_hw or (h, w), in_ch or c, args.num_classes)


# --------------------------------------------------------------------------------------------------
# Closed forms (from the architecture's definition, independent of the modules above).

def _walk(ch, ch_mult, num_res_blocks, attn_res, height, width):
    """Yields (kind, in, out, H*W) for every layer of the U-Net in order."""
    levels = len(ch_mult)
    hw, res = height * width, height
    yield "conv3", None, ch, hw  # conv_in (input channels filled in by the callers)
    skips, cur = [ch], ch
    for i in range(levels):
        for _ in range(num_res_blocks):
            yield "res", cur, ch * ch_mult[i], hw
            cur = ch * ch_mult[i]
            if res in attn_res:
                yield "attn", cur, cur, hw
            skips.append(cur)
        if i != levels - 1:
            hw, res = hw // 4, res // 2
            yield "conv3", cur, cur, hw  # downsample, at the output resolution
            skips.append(cur)
    yield "res", cur, cur, hw
    yield "attn", cur, cur, hw
    yield "res", cur, cur, hw
    for i in reversed(range(levels)):
        for _ in range(num_res_blocks + 1):
            yield "res", cur + skips.pop(), ch * ch_mult[i], hw
            cur = ch * ch_mult[i]
            if res in attn_res:
                yield "attn", cur, cur, hw
        if i != 0:
            hw, res = hw * 4, res * 2
            yield "conv3", cur, cur, hw  # upsample conv, at the output resolution
    yield "norm_out", cur, cur, hw
    yield "conv_out", cur, None, hw


def params_closed_form(ch, ch_mult, num_res_blocks, attn_res, height, width, in_ch, num_classes):
    t = 4 * ch
    total = ch * t + t + t * t + t + (num_classes + 1) * t if num_classes > 0 else ch * t + t + t * t + t
    for kind, i, o, _ in _walk(ch, ch_mult, num_res_blocks, attn_res, height, width):
        if kind == "conv3":
            i = in_ch if i is None else i
            total += 9 * i * o + o
        elif kind == "res":
            total += 2 * i + 9 * i * o + o + t * o + o + 2 * o + 9 * o * o + o + (i * o + o if i != o else 0)
        elif kind == "attn":
            total += 2 * i + 4 * (i * i + i)
        elif kind == "norm_out":
            total += 2 * i
        elif kind == "conv_out":
            total += 9 * i * in_ch + in_ch
    return total


def macs_closed_form(ch, ch_mult, num_res_blocks, attn_res, height, width, in_ch):
    total = 0
    for kind, i, o, hw in _walk(ch, ch_mult, num_res_blocks, attn_res, height, width):
        if kind == "conv3":
            total += 9 * (in_ch if i is None else i) * o * hw
        elif kind == "res":
            total += (9 * i * o + 9 * o * o + (i * o if i != o else 0)) * hw
        elif kind == "attn":
            total += 4 * i * i * hw + 2 * hw * hw * i
        elif kind == "conv_out":
            total += 9 * i * in_ch * hw
    return total


# --------------------------------------------------------------------------------------------------
# An independent NHWC reference in numpy (float64), from the exported TensorFlow-layout parameters: checks
# both the torch network and the export's names and layouts.

def _np_conv3(p, name, x, stride=1):
    k, b = p[name + "/kernel"].astype(np.float64), p[name + "/bias"].astype(np.float64)
    bsz, hh, ww, _ = x.shape
    if stride == 1:
        xp = np.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)))
        oh, ow = hh, ww
    else:  # TensorFlow "SAME", stride 2, even sizes: total padding 1, all of it after
        xp = np.pad(x, ((0, 0), (0, 1), (0, 1), (0, 0)))
        oh, ow = hh // 2, ww // 2
    y = np.zeros((bsz, oh, ow, k.shape[3]))
    for dy in range(3):
        for dx in range(3):
            patch = xp[:, dy:dy + stride * (oh - 1) + 1:stride, dx:dx + stride * (ow - 1) + 1:stride, :]
            y += np.einsum("bhwi,io->bhwo", patch, k[dy, dx])
    return y + b


def _np_nin(p, name, x):
    return np.einsum("...i,io->...o", x, p[name + "/kernel"].astype(np.float64)) + p[name + "/bias"]


def _np_norm(p, name, x):
    bsz, hh, ww, c = x.shape
    g = x.reshape(bsz, hh, ww, NUM_GROUPS, c // NUM_GROUPS)
    mean = g.mean(axis=(1, 2, 4), keepdims=True)
    var = ((g - mean) ** 2).mean(axis=(1, 2, 4), keepdims=True)
    g = (g - mean) / np.sqrt(var + GN_EPS)
    return g.reshape(x.shape) * p[name + "/gamma"] + p[name + "/beta"]


def _np_swish(x):
    return x / (1.0 + np.exp(-x))


def _np_resblock(p, name, x, temb):
    h = _np_conv3(p, name + "/conv1", _np_swish(_np_norm(p, name + "/norm1", x)))
    h = h + _np_nin(p, name + "/temb_proj", _np_swish(temb))[:, None, None, :]
    h = _np_conv3(p, name + "/conv2", _np_swish(_np_norm(p, name + "/norm2", h)))
    if name + "/nin_shortcut/kernel" in p:
        x = _np_nin(p, name + "/nin_shortcut", x)
    return x + h


def _np_attn(p, name, x):
    bsz, hh, ww, c = x.shape
    h = _np_norm(p, name + "/norm", x)
    q, k, v = (_np_nin(p, f"{name}/{n}", h) for n in ("q", "k", "v"))
    w = np.einsum("bhwc,bHWc->bhwHW", q, k) * (c ** -0.5)
    w = w.reshape(bsz, hh, ww, hh * ww)
    w = np.exp(w - w.max(axis=-1, keepdims=True))
    w = (w / w.sum(axis=-1, keepdims=True)).reshape(bsz, hh, ww, hh, ww)
    h = np.einsum("bhwHW,bHWc->bhwc", w, v)
    return x + _np_nin(p, name + "/proj_out", h)


def numpy_reference(p, x, t, labels, ch, ch_mult, num_res_blocks, attn_res):
    """The U-Net on NHWC float64 inputs, from {checkpoint name: TensorFlow-layout array}."""
    half = ch // 2
    freqs = np.exp(-math.log(10000.0) * np.arange(half) / (half - 1))
    emb = t.astype(np.float64)[:, None] * freqs[None, :]
    emb = np.concatenate([np.sin(emb), np.cos(emb)], axis=1)
    temb = _np_nin(p, "unet/temb/dense1", _np_swish(_np_nin(p, "unet/temb/dense0", emb)))
    if labels is not None:
        temb = temb + p["unet/label_emb/embeddings"][labels]
    hs = [_np_conv3(p, "unet/conv_in", x)]
    levels = len(ch_mult)
    for i in range(levels):
        for j in range(num_res_blocks):
            h = _np_resblock(p, f"unet/down_{i}/block_{j}", hs[-1], temb)
            if h.shape[1] in attn_res:
                h = _np_attn(p, f"unet/down_{i}/attn_{j}", h)
            hs.append(h)
        if i != levels - 1:
            hs.append(_np_conv3(p, f"unet/down_{i}/downsample/conv", hs[-1], stride=2))
    h = _np_resblock(p, "unet/mid/block_1", hs[-1], temb)
    h = _np_attn(p, "unet/mid/attn_1", h)
    h = _np_resblock(p, "unet/mid/block_2", h, temb)
    for i in reversed(range(levels)):
        for j in range(num_res_blocks + 1):
            h = _np_resblock(p, f"unet/up_{i}/block_{j}", np.concatenate([h, hs.pop()], axis=-1), temb)
            if h.shape[1] in attn_res:
                h = _np_attn(p, f"unet/up_{i}/attn_{j}", h)
        if i != 0:
            h = np.repeat(np.repeat(h, 2, axis=1), 2, axis=2)
            h = _np_conv3(p, f"unet/up_{i}/upsample/conv", h)
    return _np_conv3(p, "unet/conv_out", _np_swish(_np_norm(p, "unet/norm_out", h)))


def expected_names(ch, ch_mult, num_res_blocks, attn_res, height, num_classes):
    """The checkpoint names, listed from the architecture's text (independent of the modules above)."""
    names = ["unet/temb/dense0/kernel", "unet/temb/dense0/bias", "unet/temb/dense1/kernel", "unet/temb/dense1/bias"]
    if num_classes > 0:
        names.append("unet/label_emb/embeddings")
    names += ["unet/conv_in/kernel", "unet/conv_in/bias"]

    def block(prefix, i, o):
        leaves = ["norm1/gamma", "norm1/beta", "conv1/kernel", "conv1/bias", "temb_proj/kernel", "temb_proj/bias",
                  "norm2/gamma", "norm2/beta", "conv2/kernel", "conv2/bias"]
        if i != o:
            leaves += ["nin_shortcut/kernel", "nin_shortcut/bias"]
        return [f"{prefix}/{leaf}" for leaf in leaves]

    def attn(prefix):
        return [f"{prefix}/{n}/{v}" for n, vs in (("norm", ("gamma", "beta")), ("q", ("kernel", "bias")),
                                                 ("k", ("kernel", "bias")), ("v", ("kernel", "bias")),
                                                 ("proj_out", ("kernel", "bias"))) for v in vs]

    levels = len(ch_mult)
    res, cur, skips = height, ch, [ch]
    for i in range(levels):
        for j in range(num_res_blocks):
            names += block(f"unet/down_{i}/block_{j}", cur, ch * ch_mult[i])
            cur = ch * ch_mult[i]
            if res in attn_res:
                names += attn(f"unet/down_{i}/attn_{j}")
            skips.append(cur)
        if i != levels - 1:
            names += [f"unet/down_{i}/downsample/conv/kernel", f"unet/down_{i}/downsample/conv/bias"]
            skips.append(cur)
            res //= 2
    names += block("unet/mid/block_1", cur, cur) + attn("unet/mid/attn_1") + block("unet/mid/block_2", cur, cur)
    for i in reversed(range(levels)):
        for j in range(num_res_blocks + 1):
            names += block(f"unet/up_{i}/block_{j}", cur + skips.pop(), ch * ch_mult[i])
            cur = ch * ch_mult[i]
            if res in attn_res:
                names += attn(f"unet/up_{i}/attn_{j}")
        if i != 0:
            names += [f"unet/up_{i}/upsample/conv/kernel", f"unet/up_{i}/upsample/conv/bias"]
            res *= 2
    names += ["unet/norm_out/gamma", "unet/norm_out/beta", "unet/conv_out/kernel", "unet/conv_out/bias"]
    return names


# --------------------------------------------------------------------------------------------------
# Self-checks.

CIFAR = dict(ch=128, ch_mult=(1, 2, 2, 2), num_res_blocks=2, attn_res=(16,), height=32, width=32, in_ch=3)
CIFAR_PARAMS = 35746307  # the released CIFAR-10 checkpoint's


def check_cifar_counts():
    c = CIFAR
    torch.manual_seed(0)
    model = UNet(c["ch"], c["ch_mult"], c["num_res_blocks"], c["attn_res"], 0.1, (32, 32), 3, 0)
    default_init(model)
    counted = sum(p.numel() for p in model.parameters())
    closed = params_closed_form(c["ch"], c["ch_mult"], c["num_res_blocks"], c["attn_res"], 32, 32, 3, 0)
    model.eval()
    with torch.no_grad(), MacCounter() as counter:
        model(torch.zeros(1, 3, 32, 32), torch.tensor([0]))
    macs = macs_closed_form(c["ch"], c["ch_mult"], c["num_res_blocks"], c["attn_res"], 32, 32, 3)
    ok = counted == CIFAR_PARAMS == closed and counter.total == macs
    return ok, (f"CIFAR-10 configuration (ch 128, ch_mult 1 2 2 2, 2 blocks, attention at 16, 32x32x3): params "
                f"{counted} (closed form {closed}, released checkpoint {CIFAR_PARAMS}), forward MACs/image "
                f"{counter.total} (closed form {macs})")


def check_shapes_and_counts(args):
    h, w, c = args.image
    torch.manual_seed(args.seed)
    model = build(args)
    default_init(model)
    model.eval()
    x = torch.randn(2, c, h, w)
    t = torch.tensor([0, T_STEPS - 1])
    labels = torch.tensor([0, args.num_classes]) if args.num_classes > 0 else None
    with torch.no_grad(), MacCounter() as counter:
        y = model(x, t, labels)
    counted = sum(p.numel() for p in model.parameters())
    closed = params_closed_form(args.ch, args.ch_mult, args.num_res_blocks, args.attn_res, h, w, c, args.num_classes)
    macs = macs_closed_form(args.ch, args.ch_mult, args.num_res_blocks, args.attn_res, h, w, c) * 2
    finite = bool(torch.isfinite(y).all())
    ok = tuple(y.shape) == tuple(x.shape) and finite and counted == closed and counter.total == macs
    return ok, (f"output shape [bench configuration]: {list(y.shape)} for input {list(x.shape)} (NCHW), "
                f"{'finite' if finite else 'NOT finite'}; "
                f"params {counted} (closed form {closed}), MACs for 2 images {counter.total} (closed form {macs})")


def check_timestep_embedding():
    dim, ts = 128, [0, 1, 17, 500, 999]
    got = timestep_embedding(torch.tensor(ts), dim).double()
    got64 = timestep_embedding(torch.tensor(ts), dim, torch.float64)
    half = dim // 2
    ref = torch.tensor([[math.sin(t * math.exp(-math.log(10000.0) * k / (half - 1))) for k in range(half)]
                        + [math.cos(t * math.exp(-math.log(10000.0) * k / (half - 1))) for k in range(half)]
                        for t in ts], dtype=torch.float64)
    err = (got - ref).abs().max().item()
    err64 = (got64 - ref).abs().max().item()
    # float32 frequencies times t up to 999: the angle is exact to about 1e-4 rad.
    return err <= 5e-4 and err64 <= 1e-12, (
        f"timestep embedding (dim 128, t in {ts}) vs sin/cos of the direct formula in float64: max |error| "
        f"{err:.2e} in float32 (tol 5e-4), {err64:.2e} in float64 (tol 1e-12)")


def check_group_norm():
    g = torch.Generator().manual_seed(1)
    x = torch.randn(3, 64, 5, 7, generator=g, dtype=torch.float64) * 3.0 + 1.5
    norm = GroupNorm(64).double()
    with torch.no_grad():
        norm.gamma.copy_(1.0 + 0.1 * torch.randn(64, generator=g, dtype=torch.float64))
        norm.beta.copy_(0.1 * torch.randn(64, generator=g, dtype=torch.float64))
        got = norm(x)
        grouped = x.reshape(3, NUM_GROUPS, -1)
        mean = grouped.mean(dim=2, keepdim=True)
        var = ((grouped - mean) ** 2).mean(dim=2, keepdim=True)
        ref = ((grouped - mean) / torch.sqrt(var + GN_EPS)).reshape_as(x)
        ref = ref * norm.gamma.view(1, -1, 1, 1) + norm.beta.view(1, -1, 1, 1)
    err = (got - ref).abs().max().item()
    return err <= 1e-12, (f"GroupNorm (F.group_norm, 32 groups, eps 1e-6) vs the direct formula (biased variance), "
                          f"[3, 64, 5, 7] float64: max |error| {err:.2e} (tol 1e-12)")


def check_reference(num_classes, seed):
    """The torch net against the numpy NHWC reference run on the exported parameters (tiny config, float64)."""
    cfg = dict(ch=32, ch_mult=(1, 2), num_res_blocks=1, attn_res=(4,))
    torch.manual_seed(seed)
    model = UNet(cfg["ch"], cfg["ch_mult"], cfg["num_res_blocks"], cfg["attn_res"], 0.1, (8, 8), 3, num_classes)
    fixture_init(model, torch.Generator().manual_seed(seed))
    model = model.double().eval()
    g = torch.Generator().manual_seed(seed + 1)
    x = torch.randn(4, 8, 8, 3, generator=g, dtype=torch.float64)
    t = np.array([0, 17, 500, 999])
    labels = np.array([0, 3, num_classes - 1, num_classes]) if num_classes > 0 else None
    # fixture_init drew float32 values, so the exported float32 parameters are exactly the model's.
    params = {k: v.astype(np.float64) for k, v in model.export_tf().items()}
    with torch.no_grad():
        y = model(x.permute(0, 3, 1, 2), torch.from_numpy(t),
                  None if labels is None else torch.from_numpy(labels)).permute(0, 2, 3, 1).numpy()
    ref = numpy_reference(params, x.numpy(), t, labels, **cfg)
    names = expected_names(cfg["ch"], cfg["ch_mult"], cfg["num_res_blocks"], cfg["attn_res"], 8, num_classes)
    err = float(np.abs(y - ref).max())
    names_ok = len(params) == len(names) and set(params) == set(names)
    ok = err <= 1e-10 and names_ok
    return ok, (f"torch vs numpy NHWC reference on the exported TensorFlow-layout parameters [ch 32, ch_mult 1 2, "
                f"1 block, attention at 4, 8x8x3, num_classes {num_classes}, float64]: max |error| {err:.2e} "
                f"(tol 1e-10), {len(params)} checkpoint names {'as' if names_ok else 'NOT as'} listed")


def check_gradients(seed):
    """One training loss on a tiny class-conditional config reaches every parameter (no unused weights)."""
    torch.manual_seed(seed)
    model = UNet(32, (1, 2), 1, (4,), 0.1, (8, 8), 3, 10)
    fixture_init(model, torch.Generator().manual_seed(seed))
    model.train()
    loss = F.mse_loss(model(torch.randn(2, 3, 8, 8), torch.tensor([3, 900]), torch.tensor([1, 10])),
                      torch.randn(2, 3, 8, 8))
    loss.backward()
    # Only the two label-embedding rows used get gradient.
    dead = [n for n, p in model.named_parameters() if n != "label_emb.weight" and
            (p.grad is None or not bool((p.grad != 0).any()))]
    emb_rows = (model.label_emb.weight.grad.abs().sum(1) != 0).nonzero().flatten().tolist()
    ok = not dead and emb_rows == [1, 10]
    return ok, (f"gradient reaches every parameter [tiny class-conditional config]: "
                f"{'all' if not dead else 'missing ' + ', '.join(dead)}; label rows with gradient {emb_rows}")


def run_checks(args):
    checks = [
        check_cifar_counts,
        lambda: check_shapes_and_counts(args),
        check_timestep_embedding,
        check_group_norm,
        lambda: check_reference(0, args.seed),
        lambda: check_reference(10, args.seed),
        lambda: check_gradients(args.seed),
    ]
    failed = 0
    for check in checks:
        ok, message = check()
        print(("check ok   " if ok else "check FAIL ") + message, flush=True)
        failed += 0 if ok else 1
    return failed


# --------------------------------------------------------------------------------------------------
# Fixture.

def write_fixture(args):
    h, w, c = args.image
    torch.manual_seed(args.seed)
    model = build(args)
    fixture_init(model, torch.Generator().manual_seed(args.seed))
    model.eval()
    exported = model.export_tf()
    names = expected_names(args.ch, args.ch_mult, args.num_res_blocks, args.attn_res, h, args.num_classes)
    if len(exported) != len(names) or set(exported) != set(names):
        raise RuntimeError(f"exported names differ from the listed ones: {sorted(set(exported) ^ set(names))}")
    params = {name: exported[name] for name in names}  # in the order the network runs them
    param_count = sum(p.numel() for p in model.parameters())

    g = torch.Generator().manual_seed(args.seed + 1)
    x = torch.randn(4, h, w, c, generator=g).numpy().astype(np.float32)
    t = np.array([0, 17, 500, 999], dtype=np.int32)
    labels = None
    if args.num_classes > 0:
        labels = np.array([0, min(3, args.num_classes - 1), args.num_classes - 1, args.num_classes], dtype=np.int32)

    # Golden output: float64 from the float32-rounded parameters and inputs.
    model64 = model.double()  # parameters already hold float32-representable values
    with torch.no_grad():
        eps = model64(torch.from_numpy(x).double().permute(0, 3, 1, 2), torch.from_numpy(t),
                      None if labels is None else torch.from_numpy(labels)).permute(0, 2, 3, 1).numpy()
    ref = numpy_reference({k: v.astype(np.float64) for k, v in params.items()}, x.astype(np.float64), t, labels,
                          args.ch, args.ch_mult, args.num_res_blocks, args.attn_res)
    ref_err = float(np.abs(eps - ref).max())
    if ref_err > 1e-10:
        raise RuntimeError(f"torch and the numpy reference disagree on the fixture: max |error| {ref_err:.3e}")
    model32 = model64.float()
    with torch.no_grad():
        eps32 = model32(torch.from_numpy(x).permute(0, 3, 1, 2), torch.from_numpy(t),
                        None if labels is None else torch.from_numpy(labels)).permute(0, 2, 3, 1).numpy()

    arrays = dict(params)
    arrays["input/x"] = x
    arrays["input/t"] = t
    if labels is not None:
        arrays["input/labels"] = labels
    arrays["output/eps"] = eps.astype(np.float32)
    arrays["meta/param_count"] = np.array(param_count, dtype=np.int64)
    out_dir = os.path.dirname(os.path.abspath(args.fixture))
    os.makedirs(out_dir, exist_ok=True)
    with open(args.fixture, "wb") as f:  # a file object: np.savez would append .npz to a name without it
        np.savez(f, **arrays)
    return {
        "fixture": args.fixture,
        "params": param_count,
        "arrays": len(arrays),
        "output_abs_max": float(np.abs(eps).max()),
        "output_std": float(eps.std()),
        "float32_vs_float64_max_abs_diff": float(np.abs(eps32 - eps).max()),
        "numpy_reference_max_abs_diff": ref_err,
    }


# --------------------------------------------------------------------------------------------------
# Benchmark.

def schedule():
    betas = torch.linspace(BETA_1, BETA_T, T_STEPS, dtype=torch.float64)
    alphas = 1.0 - betas
    return betas, alphas, torch.cumprod(alphas, 0)


def benchmark(args):
    h, w, c = args.image
    torch.manual_seed(args.seed)
    model = build(args)
    default_init(model)
    params = sum(p.numel() for p in model.parameters())
    model.eval()
    with torch.no_grad(), MacCounter() as counter:
        model(torch.zeros(1, c, h, w), torch.tensor([0]),
              torch.tensor([args.num_classes]) if args.num_classes > 0 else None)
    macs = counter.total

    betas, alphas, abar = schedule()
    sqrt_abar, sqrt_1m_abar = abar.sqrt().float(), (1.0 - abar).sqrt().float()
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-4)
    autocast = (lambda: torch.autocast("cpu", dtype=torch.bfloat16)) if args.bf16 else None

    def labels_for(n, train):
        if args.num_classes == 0:
            return None
        y = torch.randint(0, args.num_classes, (n,))
        if train:  # classifier-free guidance: drop the label 10% of the time
            y = torch.where(torch.rand(n) < 0.1, torch.full_like(y, args.num_classes), y)
        return y

    def train_step(x0, labels):
        t = torch.randint(0, T_STEPS, (x0.shape[0],))
        noise = torch.randn_like(x0)
        x_t = sqrt_abar[t].view(-1, 1, 1, 1) * x0 + sqrt_1m_abar[t].view(-1, 1, 1, 1) * noise
        optimizer.zero_grad(set_to_none=True)
        if autocast:
            with autocast():
                pred = model(x_t, t, labels)
        else:
            pred = model(x_t, t, labels)
        loss = F.mse_loss(pred.float(), noise)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        return loss

    model.train()
    train_times = []
    for i in range(args.warmup + args.iters):
        x0 = torch.rand(args.batch, c, h, w) * 2.0 - 1.0
        labels = labels_for(args.batch, True)
        start = time.perf_counter()
        loss = train_step(x0, labels)
        elapsed = time.perf_counter() - start
        if not math.isfinite(loss.item()):
            raise RuntimeError(f"training loss is not finite at iteration {i}: {loss.item()}")
        if i >= args.warmup:
            train_times.append(elapsed)

    # One ancestral step at a middle timestep, variance beta_t.
    step = T_STEPS // 2
    beta_t, alpha_t, abar_t = betas[step].item(), alphas[step].item(), abar[step].item()
    coef_x, coef_eps, sigma = 1.0 / math.sqrt(alpha_t), beta_t / math.sqrt(1.0 - abar_t), math.sqrt(beta_t)
    model.eval()
    sample_times = []
    x_t = torch.randn(args.batch, c, h, w)
    with torch.no_grad():
        for i in range(args.warmup + args.iters):
            labels = labels_for(args.batch, False)
            t = torch.full((args.batch,), step, dtype=torch.long)
            start = time.perf_counter()
            if autocast:
                with autocast():
                    eps = model(x_t, t, labels)
            else:
                eps = model(x_t, t, labels)
            x_prev = coef_x * (x_t - coef_eps * eps.float()) + sigma * torch.randn_like(x_t)
            elapsed = time.perf_counter() - start
            if i >= args.warmup:
                sample_times.append(elapsed)
    if not bool(torch.isfinite(x_prev).all()):
        raise RuntimeError("the sampling step produced non-finite values")

    return {
        "framework": "pytorch",
        "torch": torch.__version__,
        "params": params,
        "batch": args.batch,
        "threads": args.threads,
        "bf16": bool(args.bf16),
        "train_step_s": statistics.median(train_times),
        "train_step_s_all": train_times,
        "sample_step_s": statistics.median(sample_times),
        "sample_step_s_all": sample_times,
        "forward_macs_per_image": macs,
    }


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line on stderr (exit status 2), without the usage text."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message}\n")


def parse_args(argv):
    parser = _Parser(prog="ddpm_torch.py", description="Times the DDPM U-Net in PyTorch, or writes its fixture.")
    parser.add_argument("--ch", type=int, default=128, help="base channels (default 128)")
    parser.add_argument("--ch-mult", type=int, nargs="+", default=[1, 2, 2, 2],
                        help="channel multiplier per level (default 1 2 2 2)")
    parser.add_argument("--num-res-blocks", type=int, default=2, help="residual blocks per level (default 2)")
    parser.add_argument("--attn-res", type=int, nargs="*", default=[16],
                        help="resolutions (feature-map heights) with attention (default 16)")
    parser.add_argument("--dropout", type=float, default=0.1, help="dropout rate in the residual blocks (default 0.1)")
    parser.add_argument("--image", type=int, nargs=3, required=True, metavar=("H", "W", "C"),
                        help="image height, width and channels")
    parser.add_argument("--num-classes", type=int, default=0,
                        help="classes of a class-conditional model; 0 (default) for unconditional")
    parser.add_argument("--batch", type=int, help="images per step")
    parser.add_argument("--threads", type=int, help="intra-op threads")
    parser.add_argument("--warmup", type=int, help="untimed iterations before timing")
    parser.add_argument("--iters", type=int, help="timed iterations (median reported)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--check", action="store_true", help="run the self-checks first; exit 1 on failure")
    parser.add_argument("--bf16", action="store_true", help="run forward passes under CPU autocast to bfloat16")
    parser.add_argument("--fixture", metavar="OUT.npz",
                        help="write the golden-output fixture to OUT.npz instead of benchmarking")
    args = parser.parse_args(argv)

    if args.fixture is None:
        for name in ("batch", "threads", "warmup", "iters"):
            if getattr(args, name) is None:
                parser.error(f"--{name} is required (unless --fixture)")
    elif args.bf16:
        parser.error("--bf16 applies to the benchmark, not to --fixture")
    for name, minimum in (("ch", 1), ("num_res_blocks", 1), ("num_classes", 0), ("batch", 1), ("threads", 1),
                          ("warmup", 0), ("iters", 1)):
        value = getattr(args, name)
        if value is not None and value < minimum:
            parser.error(f"--{name.replace('_', '-')} must be >= {minimum}, got {value}")
    if min(args.ch_mult) < 1:
        parser.error(f"--ch-mult values must be >= 1, got {' '.join(map(str, args.ch_mult))}")
    if args.ch % NUM_GROUPS:
        parser.error(f"--ch {args.ch} must be a multiple of {NUM_GROUPS} (GroupNorm with {NUM_GROUPS} groups)")
    if args.ch // 2 < 2:
        parser.error(f"--ch {args.ch} is too small for the timestep embedding (needs ch // 2 >= 2)")
    if not 0.0 <= args.dropout < 1.0:
        parser.error(f"--dropout must be in [0, 1), got {args.dropout}")
    h, w, c = args.image
    if min(h, w, c) < 1:
        parser.error(f"--image H W C must be positive, got {h} {w} {c}")
    block = 2 ** (len(args.ch_mult) - 1)
    if h % block or w % block:
        parser.error(f"--image height {h} and width {w} must be divisible by 2^(levels - 1) = {block} "
                     f"(one downsampling between levels, {len(args.ch_mult)} levels)")
    if args.fixture is not None and not args.fixture.endswith(".npz"):
        parser.error(f"--fixture must name an .npz file, got {args.fixture}")
    args.ch_mult = tuple(args.ch_mult)
    args.attn_res = tuple(args.attn_res)
    return args


def main(argv):
    args = parse_args(argv)
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    torch.set_num_interop_threads(1)
    torch.set_default_dtype(torch.float32)
    if args.check:
        failed = run_checks(args)
        if failed:
            print(f"ddpm_torch.py: {failed} self-check(s) failed", file=sys.stderr)
            return 1
    result = write_fixture(args) if args.fixture is not None else benchmark(args)
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
