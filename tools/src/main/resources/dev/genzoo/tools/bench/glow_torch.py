#!/usr/bin/python3
"""PyTorch peer of genzoo's Glow benchmark.

Builds genzoo's variant of Glow (Kingma & Dhariwal 2018, "Glow: Generative Flow with Invertible 1x1
Convolutions", arXiv:1807.03039) in PyTorch, times one training step (bits/dim loss, backward, Adamax)
and one sampling step (a full inverse pass from the priors at temperature 1), and prints one JSON line.
genzoo's `bench` command extracts this file from its jar, runs it with /usr/bin/python3 and reports
the ratio beside its own timing of the same architecture.

The architecture follows genzoo's NHWC definition exactly; this script works in NCHW internally
(channel c of NHWC is channel c of NCHW, so slicing and interleaving by channel are the same, and the
parameter counts and MACs do not change). Squeeze is TensorFlow's space_to_depth with block 2:
output channel (2 * dy + dx) * C + c holds input pixel (2 * i + dy, 2 * j + dx), channel c.

Usage:
  glow_torch.py --levels L --steps K --width W --image H W C --batch B --threads T
                --warmup N1 --iters N2 [--seed S] [--check]

The last line on stdout is the JSON result; --check runs self-checks first (one "check ..." line each)
and exits with status 1 if any fails. Bad arguments exit with status 2 and a one-line reason on stderr.
"""

import argparse
import json
import math
import statistics
import sys
import time

import torch
import torch.nn.functional as F
from torch import nn


# --------------------------------------------------------------------------------------------------
# MAC counting: every convolution (the 1x1 invertible convolutions included) goes through conv2d(),
# which adds k*k*in*out*H_out*W_out per image to the active counter, from the shapes it is given.

class MacCounter:
    """Counts multiply-accumulates of the convolutions run while it is active (a context manager)."""

    active = None

    def __init__(self):
        self.total = 0

    def __enter__(self):
        MacCounter.active = self
        return self

    def __exit__(self, *exc):
        MacCounter.active = None
        return False


def conv2d(x, weight, bias=None, padding=0):
    """F.conv2d (stride 1) that reports its MACs to the active MacCounter."""
    y = F.conv2d(x, weight, bias, padding=padding)
    counter = MacCounter.active
    if counter is not None:
        out_c, in_c, kh, kw = weight.shape
        counter.total += x.shape[0] * kh * kw * in_c * out_c * y.shape[2] * y.shape[3]
    return y


# --------------------------------------------------------------------------------------------------
# Layers.

def squeeze2(x):
    """Space-to-depth, block 2, TensorFlow channel order: (B, C, H, W) -> (B, 4C, H/2, W/2)."""
    b, c, h, w = x.shape
    x = x.reshape(b, c, h // 2, 2, w // 2, 2)
    x = x.permute(0, 3, 5, 1, 2, 4)  # b, dy, dx, c, i, j
    return x.reshape(b, 4 * c, h // 2, w // 2)


def unsqueeze2(x):
    """Depth-to-space, block 2, the inverse of squeeze2: (B, 4C, H, W) -> (B, C, 2H, 2W)."""
    b, c4, h, w = x.shape
    c = c4 // 4
    x = x.reshape(b, 2, 2, c, h, w)
    x = x.permute(0, 3, 4, 1, 5, 2)  # b, c, i, dy, j, dx
    return x.reshape(b, c, 2 * h, 2 * w)


def gaussian_log_density(z, mean, logs):
    """Per-image sum of log N(z; mean, exp(logs)^2)."""
    log_p = -0.5 * (math.log(2.0 * math.pi) + 2.0 * logs + (z - mean) ** 2 * torch.exp(-2.0 * logs))
    return log_p.flatten(1).sum(1)


class ActNorm(nn.Module):
    """y = (x + bias) * exp(logs) per channel, with data-dependent initialisation on the first batch:
    bias = -mean(x), logs = log(1 / (std(x) + 1e-6)) over batch and spatial positions. 2C parameters."""

    def __init__(self, channels):
        super().__init__()
        self.bias = nn.Parameter(torch.zeros(channels))
        self.logs = nn.Parameter(torch.zeros(channels))
        self.register_buffer("initialized", torch.tensor(False))

    def _init(self, x):
        with torch.no_grad():
            mean = x.mean(dim=(0, 2, 3))
            std = x.std(dim=(0, 2, 3), unbiased=False)
            self.bias.copy_(-mean)
            self.logs.copy_(torch.log(1.0 / (std + 1e-6)))
            self.initialized.fill_(True)

    def forward(self, x):
        if not bool(self.initialized):
            self._init(x)
        y = (x + self.bias.view(1, -1, 1, 1)) * torch.exp(self.logs).view(1, -1, 1, 1)
        logdet = x.shape[2] * x.shape[3] * self.logs.sum()
        return y, logdet

    def inverse(self, y):
        return y * torch.exp(-self.logs).view(1, -1, 1, 1) - self.bias.view(1, -1, 1, 1)


class InvConv1x1LU(nn.Module):
    """Invertible 1x1 convolution, LU-parameterised: W = P @ L @ (U + diag(sign_s * exp(log_s))),
    L = strictly-lower(Lw) + I, U = strictly-upper(Uw). Trainable Lw, Uw (C x C), log_s (C);
    P and sign_s are fixed buffers from the LU decomposition of a random orthogonal matrix."""

    def __init__(self, channels):
        super().__init__()
        q, _ = torch.linalg.qr(torch.randn(channels, channels, dtype=torch.float64))
        p, lower, upper = torch.linalg.lu(q)
        s = torch.diagonal(upper)
        dtype = torch.get_default_dtype()
        self.register_buffer("p", p.to(dtype))
        self.register_buffer("sign_s", torch.sign(s).to(dtype))
        self.register_buffer("lower_mask", torch.tril(torch.ones(channels, channels, dtype=dtype), -1))
        self.register_buffer("eye", torch.eye(channels, dtype=dtype))
        self.lw = nn.Parameter(lower.to(dtype))
        self.uw = nn.Parameter(torch.triu(upper, 1).to(dtype))
        self.log_s = nn.Parameter(torch.log(torch.abs(s)).to(dtype))

    def weight(self):
        lower = self.lw * self.lower_mask + self.eye
        upper = self.uw * self.lower_mask.t() + torch.diag(self.sign_s * torch.exp(self.log_s))
        return self.p @ lower @ upper

    def forward(self, x):
        w = self.weight()
        y = conv2d(x, w.view(w.shape[0], w.shape[1], 1, 1))
        logdet = x.shape[2] * x.shape[3] * self.log_s.sum()
        return y, logdet

    def inverse(self, y):
        w_inv = torch.inverse(self.weight())
        return conv2d(y, w_inv.view(w_inv.shape[0], w_inv.shape[1], 1, 1))


class Conv2dZeros(nn.Module):
    """output = (conv(x) + bias) * exp(3 * logs); kernel, bias and per-output-channel logs zero-initialised.
    k*k*in*out + 2*out parameters."""

    def __init__(self, in_channels, out_channels, kernel=3):
        super().__init__()
        self.kernel = nn.Parameter(torch.zeros(out_channels, in_channels, kernel, kernel))
        self.bias = nn.Parameter(torch.zeros(out_channels))
        self.logs = nn.Parameter(torch.zeros(out_channels))
        self.padding = kernel // 2

    def forward(self, x):
        h = conv2d(x, self.kernel, self.bias, padding=self.padding)
        return h * torch.exp(3.0 * self.logs).view(1, -1, 1, 1)


class CouplingNN(nn.Module):
    """conv 3x3 (C/2 -> W, no bias) -> ActNorm -> ReLU -> conv 1x1 (W -> W, no bias) -> ActNorm -> ReLU
    -> Conv2dZeros 3x3 (W -> C)."""

    def __init__(self, channels, width):
        super().__init__()
        self.conv1 = nn.Parameter(torch.empty(width, channels // 2, 3, 3))
        self.norm1 = ActNorm(width)
        self.conv2 = nn.Parameter(torch.empty(width, width, 1, 1))
        self.norm2 = ActNorm(width)
        self.out = Conv2dZeros(width, channels, 3)
        nn.init.normal_(self.conv1, std=0.05)
        nn.init.normal_(self.conv2, std=0.05)

    def forward(self, z1):
        h, _ = self.norm1(conv2d(z1, self.conv1, padding=1))
        h = F.relu(h)
        h, _ = self.norm2(conv2d(h, self.conv2))
        h = F.relu(h)
        return self.out(h)


class AffineCoupling(nn.Module):
    """z1 = x[:C/2], z2 = x[C/2:]; h = NN(z1); shift = h[0::2], scale = sigmoid(h[1::2] + 2);
    z2' = (z2 + shift) * scale; logdet = sum log(scale)."""

    def __init__(self, channels, width):
        super().__init__()
        self.nn = CouplingNN(channels, width)

    def _shift_scale(self, z1):
        h = self.nn(z1)
        return h[:, 0::2], torch.sigmoid(h[:, 1::2] + 2.0)

    def forward(self, x):
        half = x.shape[1] // 2
        z1, z2 = x[:, :half], x[:, half:]
        shift, scale = self._shift_scale(z1)
        z2 = (z2 + shift) * scale
        logdet = torch.log(scale).flatten(1).sum(1)
        return torch.cat([z1, z2], dim=1), logdet

    def inverse(self, y):
        half = y.shape[1] // 2
        z1, z2 = y[:, :half], y[:, half:]
        shift, scale = self._shift_scale(z1)
        return torch.cat([z1, z2 / scale - shift], dim=1)


class FlowStep(nn.Module):
    """ActNorm -> invertible 1x1 convolution (LU) -> affine coupling."""

    def __init__(self, channels, width):
        super().__init__()
        self.actnorm = ActNorm(channels)
        self.invconv = InvConv1x1LU(channels)
        self.coupling = AffineCoupling(channels, width)

    def forward(self, x):
        x, ld1 = self.actnorm(x)
        x, ld2 = self.invconv(x)
        x, ld3 = self.coupling(x)
        return x, ld1 + ld2 + ld3

    def inverse(self, y):
        y = self.coupling.inverse(y)
        y = self.invconv.inverse(y)
        return self.actnorm.inverse(y)


class SplitPrior(nn.Module):
    """Conditional Gaussian prior of the factored-out half: h = Conv2dZeros 3x3 (C/2 -> C)(z1),
    mean = h[0::2], logs = h[1::2]."""

    def __init__(self, channels):
        super().__init__()
        self.conv = Conv2dZeros(channels // 2, channels, 3)

    def mean_logs(self, z1):
        h = self.conv(z1)
        return h[:, 0::2], h[:, 1::2]


class TopPrior(nn.Module):
    """Learned per-channel Gaussian prior of the top level: mean (C) and logs (C), zero-initialised."""

    def __init__(self, channels):
        super().__init__()
        self.mean = nn.Parameter(torch.zeros(channels))
        self.logs = nn.Parameter(torch.zeros(channels))

    def mean_logs(self):
        return self.mean.view(1, -1, 1, 1), self.logs.view(1, -1, 1, 1)


class Level(nn.Module):
    """squeeze -> K flow steps -> split (with its prior) or, at the top, the learned top prior."""

    def __init__(self, channels, steps, width, top):
        super().__init__()
        self.channels = channels
        self.top = top
        self.steps = nn.ModuleList([FlowStep(channels, width) for _ in range(steps)])
        self.prior = TopPrior(channels) if top else SplitPrior(channels)


class Glow(nn.Module):
    """Multi-scale Glow on images of H x W x C in model space y = x - 0.5."""

    def __init__(self, levels, steps, width, image_channels):
        super().__init__()
        mods = []
        channels = 4 * image_channels
        for i in range(levels):
            mods.append(Level(channels, steps, width, top=(i == levels - 1)))
            channels = 2 * channels  # split keeps C/2, the next squeeze makes it 4 * C/2
        self.levels = nn.ModuleList(mods)

    def encode(self, y):
        """y -> (latents from the first split to the top, per-image sum log|det|, per-image log p(z))."""
        b = y.shape[0]
        logdet = torch.zeros(b, dtype=y.dtype, device=y.device)
        log_pz = torch.zeros(b, dtype=y.dtype, device=y.device)
        latents = []
        x = y
        for level in self.levels:
            x = squeeze2(x)
            for step in level.steps:
                x, ld = step(x)
                logdet = logdet + ld
            if level.top:
                mean, logs = level.prior.mean_logs()
                log_pz = log_pz + gaussian_log_density(x, mean, logs)
                latents.append(x)
            else:
                half = x.shape[1] // 2
                z1, z2 = x[:, :half], x[:, half:]
                mean, logs = level.prior.mean_logs(z1)
                log_pz = log_pz + gaussian_log_density(z2, mean, logs)
                latents.append(z2)
                x = z1
        return latents, logdet, log_pz

    def bits_per_dim(self, y):
        """Per-image bits/dim: (-(log p(z) + sum log|det|) + D log 256) / (D log 2)."""
        _, logdet, log_pz = self.encode(y)
        d = y.shape[1] * y.shape[2] * y.shape[3]
        return (-(log_pz + logdet) + d * math.log(256.0)) / (d * math.log(2.0))

    def decode(self, batch, height, width, temperature=1.0, latents=None):
        """Inverse pass from the top. With latents=None each latent is drawn from its prior at the
        temperature (z = mean + exp(logs) * T * eps); otherwise the given latents (as from encode) are used."""
        dtype = self.levels[-1].prior.mean.dtype
        x = None
        for i in reversed(range(len(self.levels))):
            level = self.levels[i]
            scale = 2 ** (i + 1)
            h, w = height // scale, width // scale
            if level.top:
                mean, logs = level.prior.mean_logs()
                if latents is None:
                    eps = torch.randn(batch, level.channels, h, w, dtype=dtype)
                    x = mean + torch.exp(logs) * temperature * eps
                else:
                    x = latents[i]
            else:
                mean, logs = level.prior.mean_logs(x)
                if latents is None:
                    z2 = mean + torch.exp(logs) * temperature * torch.randn_like(mean)
                else:
                    z2 = latents[i]
                x = torch.cat([x, z2], dim=1)
            for step in reversed(level.steps):
                x = step.inverse(x)
            x = unsqueeze2(x)
        return x


# --------------------------------------------------------------------------------------------------
# Closed forms (from the architecture's definition, independent of the modules above).

def level_channels(levels, image_channels):
    return [4 * image_channels * 2 ** i for i in range(levels)]


def params_closed_form(levels, steps, width, image_channels):
    total = 0
    chans = level_channels(levels, image_channels)
    for i, c in enumerate(chans):
        per_step = 2 * c + (2 * c * c + c) + (9 * (c // 2) * width + 2 * width + width * width
                                              + 2 * width + 9 * width * c + 2 * c)
        total += steps * per_step
        total += 2 * c if i == levels - 1 else 9 * (c // 2) * c + 2 * c
    return total


def macs_closed_form(levels, steps, width, height, img_width, image_channels):
    total = 0
    for i, c in enumerate(level_channels(levels, image_channels)):
        hw = (height // 2 ** (i + 1)) * (img_width // 2 ** (i + 1))
        per_step = c * c + 9 * (c // 2) * width + width * width + 9 * width * c
        total += steps * per_step * hw
        if i < levels - 1:
            total += 9 * (c // 2) * c * hw
    return total


# --------------------------------------------------------------------------------------------------
# Self-checks.

def perturb(model, scale, generator):
    """Moves every parameter off its initial value (zero-initialised convolutions included) so that the
    checks exercise non-trivial couplings and priors. Kernels get noise of std scale/sqrt(fan_in), the
    others std scale/10. Run before ActNorm's data-dependent init, which then sets ActNorm's parameters."""
    with torch.no_grad():
        for p in model.parameters():
            noise = torch.randn(p.shape, generator=generator, dtype=torch.float64).to(p.dtype)
            if p.dim() == 4:
                fan_in = p.shape[1] * p.shape[2] * p.shape[3]
                p.add_(noise * (scale / math.sqrt(fan_in)))
            else:
                p.add_(noise * scale * 0.1)


def initialised_model(levels, steps, width, h, w, c, dtype, seed, noise):
    torch.manual_seed(seed)
    previous = torch.get_default_dtype()
    torch.set_default_dtype(dtype)
    try:
        model = Glow(levels, steps, width, c)
        perturb(model, noise, torch.Generator().manual_seed(seed + 1))
        with torch.no_grad():
            model.encode(torch.rand(16, c, h, w) - 0.5)  # ActNorm's data-dependent init, after the noise
    finally:
        torch.set_default_dtype(previous)
    return model


def check_inverse(args, dtype, tol):
    h, w, c = args.image
    # A composition of many perturbed steps is ill-conditioned (the error of an exact inverse grows
    # geometrically with depth), so the noise shrinks with depth: 0.1 up to the CIFAR-10 depth of 96 steps.
    noise = 0.1 * min(1.0, 96.0 / (args.levels * args.steps))
    model = initialised_model(args.levels, args.steps, args.width, h, w, c, dtype, args.seed, noise)
    y = torch.rand(2, c, h, w, dtype=dtype) - 0.5
    with torch.no_grad():
        latents, _, _ = model.encode(y)
        back = model.decode(2, h, w, latents=latents)
    err = (back - y).abs().max().item()
    name = str(dtype).replace("torch.", "")
    return err <= tol, f"inverse(forward(x)) == x [{name}, bench configuration]: max |error| {err:.3e} (tol {tol:g})"


def check_logdet(seed):
    levels, steps, width, h, w, c = 2, 2, 8, 4, 4, 3
    dtype = torch.float64
    model = initialised_model(levels, steps, width, h, w, c, dtype, seed, 0.5)
    y = torch.rand(1, c, h, w, dtype=dtype) - 0.5
    with torch.no_grad():
        _, logdet, _ = model.encode(y)

    def flat_latents(v):
        latents, _, _ = model.encode(v.view(1, c, h, w))
        return torch.cat([z.flatten() for z in latents])

    jac = torch.autograd.functional.jacobian(flat_latents, y.flatten())
    _, log_abs_det = torch.linalg.slogdet(jac)
    err = abs(log_abs_det.item() - logdet.item())
    return err <= 1e-6, (f"log-det vs autograd Jacobian [4x4x3, L=2, K=2, width 8, float64, {jac.shape[0]}x"
                         f"{jac.shape[1]}]: model {logdet.item():.9f}, jacobian {log_abs_det.item():.9f}, "
                         f"|diff| {err:.3e} (tol 1e-6)")


def check_counts():
    levels, steps, width, h, w, c = 3, 32, 512, 32, 32, 3
    torch.manual_seed(0)
    model = Glow(levels, steps, width, c)
    counted = sum(p.numel() for p in model.parameters())
    expected = params_closed_form(levels, steps, width, c)
    with torch.no_grad(), MacCounter() as counter:
        model.encode(torch.rand(1, c, h, w) - 0.5)
    macs_expected = macs_closed_form(levels, steps, width, h, w, c)
    ok = counted == expected and counter.total == macs_expected
    return ok, (f"CIFAR-10 configuration (L=3, K=32, width 512, 32x32x3): params {counted} "
                f"(closed form {expected}), forward MACs/image {counter.total} (closed form {macs_expected})")


def run_checks(args):
    checks = [
        lambda: check_inverse(args, torch.float64, 1e-4),
        lambda: check_inverse(args, torch.float32, 1e-4),
        lambda: check_logdet(args.seed),
        check_counts,
    ]
    failed = 0
    for check in checks:
        ok, message = check()
        print(("check ok   " if ok else "check FAIL ") + message, flush=True)
        failed += 0 if ok else 1
    return failed


# --------------------------------------------------------------------------------------------------
# Benchmark.

def benchmark(args):
    h, w, c = args.image
    torch.manual_seed(args.seed)
    model = Glow(args.levels, args.steps, args.width, c)
    params = sum(p.numel() for p in model.parameters())

    def batch():
        return torch.rand(args.batch, c, h, w) - 0.5

    with torch.no_grad():
        model.encode(batch())  # data-dependent ActNorm initialisation
    with torch.no_grad(), MacCounter() as counter:
        model.encode(torch.rand(1, c, h, w) - 0.5)
    macs = counter.total

    optimizer = torch.optim.Adamax(model.parameters(), lr=1e-3)
    # Adamax's first update moves every weight by lr * sign(gradient); at lr 1e-3 with no warm-up that
    # makes this freshly initialised deep flow diverge (the CIFAR-10 configuration's loss is inf at the
    # second step). The parameters are therefore put back to their initialised values before each step,
    # outside the timer, so that every timed step does the same work on finite numbers. The timed work
    # (forward, backward, the Adamax update of every parameter) is unchanged; the optimiser state is kept.
    initial = [p.detach().clone() for p in model.parameters()]

    def restore():
        with torch.no_grad():
            for p, p0 in zip(model.parameters(), initial):
                p.copy_(p0)

    def train_step(y):
        optimizer.zero_grad(set_to_none=True)
        loss = model.bits_per_dim(y).mean()
        loss.backward()
        optimizer.step()
        return loss

    train_times = []
    for i in range(args.warmup + args.iters):
        y = batch()
        restore()
        start = time.perf_counter()
        loss = train_step(y)
        elapsed = time.perf_counter() - start
        if not math.isfinite(loss.item()):
            raise RuntimeError(f"training loss is not finite at iteration {i}: {loss.item()}")
        if i >= args.warmup:
            train_times.append(elapsed)

    restore()
    sample_times = []
    with torch.no_grad():
        for i in range(args.warmup + args.iters):
            start = time.perf_counter()
            x = model.decode(args.batch, h, w, temperature=1.0)
            elapsed = time.perf_counter() - start
            if i >= args.warmup:
                sample_times.append(elapsed)
    if not bool(torch.isfinite(x).all()):
        raise RuntimeError("sampled images contain non-finite values")

    return {
        "framework": "pytorch",
        "torch": torch.__version__,
        "params": params,
        "batch": args.batch,
        "threads": args.threads,
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
    parser = _Parser(prog="glow_torch.py", description="Times genzoo's Glow architecture in PyTorch.")
    parser.add_argument("--levels", type=int, required=True, help="number of levels L")
    parser.add_argument("--steps", type=int, required=True, help="flow steps K per level")
    parser.add_argument("--width", type=int, required=True, help="hidden channels of the coupling networks")
    parser.add_argument("--image", type=int, nargs=3, required=True, metavar=("H", "W", "C"),
                        help="image height, width and channels")
    parser.add_argument("--batch", type=int, required=True, help="images per step")
    parser.add_argument("--threads", type=int, required=True, help="intra-op threads")
    parser.add_argument("--warmup", type=int, required=True, help="untimed iterations before timing")
    parser.add_argument("--iters", type=int, required=True, help="timed iterations (median reported)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--check", action="store_true", help="run the self-checks first; exit 1 on failure")
    args = parser.parse_args(argv)

    for name, minimum in (("levels", 1), ("steps", 1), ("width", 1), ("batch", 1), ("threads", 1),
                          ("warmup", 0), ("iters", 1)):
        value = getattr(args, name)
        if value < minimum:
            parser.error(f"--{name} must be >= {minimum}, got {value}")
    h, w, c = args.image
    if min(h, w, c) < 1:
        parser.error(f"--image H W C must be positive, got {h} {w} {c}")
    block = 2 ** args.levels
    if h % block or w % block:
        parser.error(f"--image height {h} and width {w} must be divisible by 2^levels = {block} "
                     f"(one squeeze per level, --levels {args.levels})")
    return args


def main(argv):
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.set_num_interop_threads(1)
    torch.set_default_dtype(torch.float32)
    if args.check:
        failed = run_checks(args)
        if failed:
            print(f"glow_torch.py: {failed} self-check(s) failed", file=sys.stderr)
            return 1
    print(json.dumps(benchmark(args)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
