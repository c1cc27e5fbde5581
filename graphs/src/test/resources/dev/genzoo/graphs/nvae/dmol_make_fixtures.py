#!/usr/bin/env python3
"""Reference values of the discretised mixture of logistics for dev.genzoo.graphs.nvae.DiscMixLogisticTest.

A float64 numpy implementation written from the formulas of PixelCNN++ (Salimans, Karpathy, Chen & Kingma 2017,
section 2.1-2.2) in the parametrisation of NVAE (Vahdat & Kautz 2020, upstream distributions.py, DiscMixLogistic),
with genzoo's edge fix: the lower tail goes to the 8-bit value k = 0 and the upper tail to k = 255 exactly (upstream
tests x > 0.99, which also sends k = 254 to the upper tail).

Per pixel, params on the last axis (NHWC) are [M logits | channel 0: M means, M log-scales, M raw coeffs | ...];
log-scales are clamped below at -7, coeffs = tanh(raw); x = 2 k / 255 - 1; mean_1 += coeff_0 x_0,
mean_2 += coeff_1 x_0 + coeff_2 x_1; per channel, the logistic mass of [x - 1/255, x + 1/255] (its fallback
log pdf(x) - log 127.5 where the mass is at most 1e-5); log sum_m softmax(logits)_m prod_c P_m(x_c).
mean() is upstream's: softmax-weighted component means and coefficients, chained, clamped to [-1, 1], mapped to [0, 1].

dmol_fixtures.npz (float64) holds, for each case in CASES, <case>/params [N, H, W, M + 3 C M], <case>/k [N, H, W, C]
(integers 0..255 stored as float64, including 0, 1, 254 and 255), <case>/logprob [N, H, W], <case>/mean [N, H, W, C],
and <case>/meta = [M, C].

Run: /usr/bin/python3 dmol_make_fixtures.py   (numpy only; writes dmol_fixtures.npz beside this script)
"""
import os

import numpy as np


def softplus(a):
    return np.logaddexp(0.0, a)


def sigmoid(a):
    return 0.5 * (1.0 + np.tanh(0.5 * a))


def unpack(params, m, c):
    logits = params[..., :m]
    means, log_scales, coeffs = [], [], []
    for ch in range(c):
        base = m + 3 * m * ch
        means.append(params[..., base:base + m])
        log_scales.append(np.maximum(params[..., base + m:base + 2 * m], -7.0))
        coeffs.append(np.tanh(params[..., base + 2 * m:base + 3 * m]))
    return logits, means, log_scales, coeffs


def channel_log_prob(k, x, mean, log_scale):
    """log P(k | one logistic) for every component; k, x: [..., 1]; mean, log_scale: [..., M]."""
    centered = x - mean
    inv = np.exp(-log_scale)
    plus_in = inv * (centered + 1.0 / 255.0)
    min_in = inv * (centered - 1.0 / 255.0)
    cdf_delta = sigmoid(plus_in) - sigmoid(min_in)
    log_cdf_plus = plus_in - softplus(plus_in)
    log_one_minus_cdf_min = -softplus(min_in)
    mid_in = inv * centered
    log_pdf_mid = mid_in - log_scale - 2.0 * softplus(mid_in)
    mid = np.where(cdf_delta > 1e-5, np.log(np.maximum(cdf_delta, 1e-10)), log_pdf_mid - np.log(127.5))
    k = np.broadcast_to(k, mid.shape)
    return np.where(k == 0, log_cdf_plus, np.where(k == 255, log_one_minus_cdf_min, mid))


def log_prob(params, k, m, c):
    logits, means, log_scales, coeffs = unpack(params, m, c)
    x = 2.0 * k / 255.0 - 1.0
    total = 0.0
    for ch in range(c):
        mean = means[ch]
        if ch == 1:
            mean = mean + coeffs[0] * x[..., 0:1]
        if ch == 2:
            mean = mean + coeffs[1] * x[..., 0:1] + coeffs[2] * x[..., 1:2]
        total = total + channel_log_prob(k[..., ch:ch + 1], x[..., ch:ch + 1], mean, log_scales[ch])
    log_mix = logits - np.logaddexp.reduce(logits, axis=-1, keepdims=True)
    return np.logaddexp.reduce(total + log_mix, axis=-1)


def mean(params, m, c):
    logits, means, _, coeffs = unpack(params, m, c)
    w = np.exp(logits - logits.max(axis=-1, keepdims=True))
    w = w / w.sum(axis=-1, keepdims=True)
    mu = [np.sum(means[ch] * w, axis=-1) for ch in range(c)]
    co = [np.sum(coeffs[ch] * w, axis=-1) for ch in range(c)]
    x0 = np.clip(mu[0], -1, 1)
    out = [x0]
    if c == 3:
        x1 = np.clip(mu[1] + co[0] * x0, -1, 1)
        x2 = np.clip(mu[2] + co[1] * x0 + co[2] * x1, -1, 1)
        out += [x1, x2]
    return (np.stack(out, axis=-1) + 1.0) / 2.0


def random_params(rng, shape, m, c, log_scale_range):
    p = np.empty(shape + (m + 3 * c * m,))
    p[..., :m] = rng.normal(0, 2.0, shape + (m,))
    for ch in range(c):
        base = m + 3 * m * ch
        p[..., base:base + m] = rng.uniform(-1.2, 1.2, shape + (m,))
        p[..., base + m:base + 2 * m] = rng.uniform(*log_scale_range, shape + (m,))
        p[..., base + 2 * m:base + 3 * m] = rng.normal(0, 1.5, shape + (m,))
    return p


def random_images(rng, shape, c):
    k = rng.integers(0, 256, shape + (c,)).astype(np.float64)
    flat = k.reshape(-1, c)
    # make sure the edges and their neighbours occur in every channel
    special = [0, 1, 254, 255]
    for ch in range(c):
        for j, v in enumerate(special):
            flat[(j + ch) % flat.shape[0], ch] = v
    return flat.reshape(k.shape)


CASES = {
    # name: (M, C, N, H, W, log-scale range)
    'c3m10': (10, 3, 3, 2, 4, (-8.0, 0.0)),
    'c1m10': (10, 1, 3, 2, 4, (-8.0, 0.0)),
    # one sharp component: the fallback branch and the clamp at -7 decide the value
    'c1m1': (1, 1, 4, 4, 4, (-9.0, -4.0)),
}


def main():
    rng = np.random.default_rng(20240605)
    arrays = {}
    for name, (m, c, n, h, w, ls) in CASES.items():
        params = random_params(rng, (n, h, w), m, c, ls)
        k = random_images(rng, (n, h, w), c)
        arrays[name + '/params'] = params
        arrays[name + '/k'] = k
        arrays[name + '/logprob'] = log_prob(params, k, m, c)
        arrays[name + '/mean'] = mean(params, m, c)
        arrays[name + '/meta'] = np.array([m, c], dtype=np.float64)
        if c == 1:
            # the pmf of every pixel sums to 1 over the 256 values (a check of this script)
            grid = np.arange(256.0).reshape(256, 1, 1, 1, 1)
            total = np.exp(log_prob(params[None], np.broadcast_to(grid, (256, n, h, w, 1)), m, c)).sum(axis=0)
            assert np.all(np.abs(total - 1) < 1e-4), total
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'dmol_fixtures.npz')
    np.savez(out, **arrays)
    print('wrote', out, sorted(arrays))


if __name__ == '__main__':
    main()
