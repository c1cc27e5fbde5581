#!/usr/bin/python3
"""PyTorch peer of genzoo's IGEBM benchmark.

Builds the energy network of Du & Mordatch 2019 ("Implicit Generation and Generalization in Energy-Based Models",
arXiv:1903.08689) as the authors' TensorFlow code defines it for unconditional CIFAR-10 (openai/ebm_code_release:
models.py ResNet32Large, utils.py; genzoo's dev.genzoo.graphs.ebm.ResNetEnergy follows the same text), and times one
IGEBM training step and one sampling step on the CPU, in fp32. The network (NCHW here, NHWC in genzoo, which changes
neither the parameter count nor the MACs):

  h = lrelu(conv(x, SN(c1_pre)))                          3x3, C -> F, no bias
  blocks (in -> out, 2x2 average pooling after the sum where marked down):
      res_optim F->F down, res_1 F->F, res_2 F->F, res_3 F->2F down, res_4 2F->2F, res_5 2F->2F,
      res_6 2F->4F down, res_7 4F->4F, res_8 4F->4F
  block(x): c1 = conv(x + b1, SN(W1)); c1 = dropout(c1, p) in training; c2 = conv(lrelu(c1) + b2, SN_lb(W2)) * g2
            r = c2 + (conv(x, SN(Ws)) if in != out else x); r = avgpool(r) if down; return lrelu(r)
  E(x) = dense(sum_HW relu(h)), 4F -> 1 with bias
lrelu has slope 0.2; convolutions are 3x3, stride 1, padding 1. SN divides a kernel (as a [out, 9 in] matrix) by
sigma from one power iteration of the stored vector u per training step (u := u'); SN_lb = W / s * min(s, 1) with
s = sigma + 1e-6.

The training step (the authors' train.py with --num_steps=60 --step_lr=10.0 --proj_norm=0.01 --replay_batch
--large_model --zero_kl, genzoo's EbmModel):
  * one power iteration for every spectrally normalised kernel;
  * B distinct slots of a replay buffer of --capacity images (uniform noise initially); each chain starts from its
    slot or, with probability 0.05, from uniform noise on [0, 1];
  * 60 Langevin steps x' = clip(x - 10 clip(grad_x E(x), -0.01, 0.01) + 0.005 xi, 0, 1), each one forward pass (with
    dropout) and one backward pass to the input; the final states go back into their slots;
  * the loss mean E(x+) - mean E(x-) + (mean E(x+)^2 + mean E(x-)^2), one forward pass each, backward, one Adam
    (lr 3e-4, betas 0 and 0.999) update.
The sampling step is one Langevin step of the same dynamics for --batch images in eval mode (the stored u, no
dropout): one forward pass and the input gradient.

Usage:
  igebm_torch.py --batch B --threads T --warmup N1 --iters N2 [--filters 128] [--image 32 32 3] [--steps 60]
                 [--dropout 0.5] [--capacity 10000] [--seed 0] [--check]

The last line on stdout is one JSON object with the keys of glow_torch.py / ddpm_torch.py (framework, torch, params,
batch, threads, train_step_s and its list, sample_step_s and its list, forward_macs_per_image) plus langevin_steps.
--check runs self-checks first (one "check ..." line each) and exits with status 1 if any fails. Bad arguments exit
with status 2 and a one-line reason on stderr.
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

SLOPE = 0.2
EPS = 1e-12
STEP_LR, NOISE, PROJ_NORM, RESTART, ALPHA = 10.0, 0.005, 0.01, 0.05, 1.0


def blocks(f):
    return [("res_optim", f, f, True), ("res_1", f, f, False), ("res_2", f, f, False), ("res_3", f, 2 * f, True),
            ("res_4", 2 * f, 2 * f, False), ("res_5", 2 * f, 2 * f, False), ("res_6", 2 * f, 4 * f, True),
            ("res_7", 4 * f, 4 * f, False), ("res_8", 4 * f, 4 * f, False)]


def l2n(a):
    return a / torch.sqrt(torch.clamp((a * a).sum(), min=EPS))


class SnKernel(nn.Module):
    """A 3x3 kernel (OIHW) with its power-iteration vector u [out]; lower_bound selects SN_lb."""

    def __init__(self, cin, cout, std, lower_bound=False):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(cout, cin, 3, 3) * std)
        self.register_buffer("u", l2n(torch.randn(cout)))
        self.lower_bound = lower_bound

    def normalized(self, iterate):
        mat = self.weight.reshape(self.weight.shape[0], -1)  # [out, K]: the transposed [K, out] matrix of TF
        with torch.no_grad():
            if iterate:
                v = l2n(mat.t() @ self.u)
                u_next = l2n(mat @ v)
                self.u.copy_(u_next)
            else:
                v = l2n(mat.t() @ self.u)
        sigma = v @ mat.t() @ self.u
        if self.lower_bound:
            s = sigma + 1e-6
            return self.weight / s * torch.clamp(s, max=1.0)
        return self.weight / sigma


class ResNet32Large(nn.Module):
    def __init__(self, channels, f, dropout):
        super().__init__()
        self.f = f
        self.dropout = dropout
        self.c1_pre = SnKernel(channels, f, 1.0)
        self.blocks = nn.ModuleList()
        self.specs = blocks(f)
        for _, i, o, _ in self.specs:
            b = nn.Module()
            b.conv_1 = SnKernel(i, o, 1.0)
            b.b1 = nn.Parameter(torch.zeros(i))
            b.conv_2 = SnKernel(o, o, 1e-10, lower_bound=True)
            b.b2 = nn.Parameter(torch.zeros(o))
            b.g2 = nn.Parameter(torch.ones(o))
            b.shortcut = SnKernel(i, o, 1.0) if i != o else None
            self.blocks.append(b)
        self.fc5 = nn.Linear(4 * f, 1)
        nn.init.xavier_uniform_(self.fc5.weight)
        nn.init.zeros_(self.fc5.bias)

    def kernels(self):
        return [m for m in self.modules() if isinstance(m, SnKernel)]

    def normalized(self, iterate):
        """Every kernel divided by its sigma: one power iteration (u updated) when iterate."""
        return {m: m.normalized(iterate) for m in self.kernels()}

    def energy(self, x, w, dropout):
        h = F.leaky_relu(F.conv2d(x, w[self.c1_pre], padding=1), SLOPE)
        for b, (_, i, o, down) in zip(self.blocks, self.specs):
            c1 = F.conv2d(h + b.b1.view(1, -1, 1, 1), w[b.conv_1], padding=1)
            if dropout and self.dropout > 0:
                c1 = F.dropout(c1, self.dropout, training=True)
            c2 = F.conv2d(F.leaky_relu(c1, SLOPE) + b.b2.view(1, -1, 1, 1), w[b.conv_2], padding=1)
            c2 = c2 * b.g2.view(1, -1, 1, 1)
            r = c2 + (F.conv2d(h, w[b.shortcut], padding=1) if b.shortcut is not None else h)
            if down:
                r = F.avg_pool2d(r, 2)
            h = F.leaky_relu(r, SLOPE)
        return self.fc5(F.relu(h).sum(dim=(2, 3))).reshape(-1)


def param_count(model):
    return sum(p.numel() for p in model.parameters())


def closed_form_params(c, f):
    n = 9 * c * f
    for _, i, o, _ in blocks(f):
        n += 9 * i * o + i + 9 * o * o + 2 * o + (9 * i * o if i != o else 0)
    return n + 4 * f + 1


def forward_macs(h, w, c, f):
    """Multiply-accumulates of the convolutions and the dense layer per image."""
    macs = 9 * c * f * h * w
    for _, i, o, down in blocks(f):
        macs += (9 * i * o + 9 * o * o + (9 * i * o if i != o else 0)) * h * w
        if down:
            h, w = h // 2, w // 2
    return macs + 4 * f


def langevin_step(model, x, w, dropout):
    x = x.detach().requires_grad_(True)
    (g,) = torch.autograd.grad(model.energy(x, w, dropout).sum(), x)
    x = x.detach() - STEP_LR * g.clamp(-PROJ_NORM, PROJ_NORM) + NOISE * torch.randn_like(x)
    return x.clamp(0.0, 1.0)


def train_step(model, opt, buffer, x_pos, steps):
    n = x_pos.shape[0]
    idx = torch.randperm(buffer.shape[0])[:n]
    start = buffer[idx].clone()
    restart = torch.rand(n) < RESTART
    start[restart] = torch.rand_like(start[restart])
    w = model.normalized(iterate=True)
    w_const = {k: v.detach() for k, v in w.items()}
    x = start
    for _ in range(steps):
        x = langevin_step(model, x, w_const, True)
    x_neg = x.detach()
    buffer[idx] = x_neg
    e_pos = model.energy(x_pos, w, True)
    e_neg = model.energy(x_neg, w, True)
    loss = e_pos.mean() - e_neg.mean() + ALPHA * (e_pos.pow(2).mean() + e_neg.pow(2).mean())
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
    return loss


def run_checks(args):
    failed = 0

    def report(ok, what):
        nonlocal failed
        print(("check ok   " if ok else "check FAIL ") + what, flush=True)
        failed += 0 if ok else 1

    big = ResNet32Large(3, 128, 0.5)
    report(param_count(big) == 18591105 == closed_form_params(3, 128),
           f"CIFAR-10 parameter count {param_count(big)} == 18,591,105 (closed form {closed_form_params(3, 128)})")
    del big
    torch.manual_seed(1)
    m = ResNet32Large(3, 8, 0.0).double()
    for k in m.kernels():
        with torch.no_grad():
            k.weight.mul_(0.3)
    x = torch.rand(2, 3, 16, 16, dtype=torch.float64)
    w = m.normalized(iterate=False)
    ok = True
    for k, wk in w.items():
        s = torch.linalg.matrix_norm(wk.reshape(wk.shape[0], -1), 2).item()
        # a stored u that is not the top singular vector underestimates sigma: the normalised norm is >= 1 (or,
        # for the lower-bound form, the kernel is unchanged when sigma <= 1)
        ok &= s >= 1 - 1e-9 or k.lower_bound
    report(ok, "spectrally normalised kernels have norm >= 1 under the one-step estimate")
    e1 = m.energy(x, w, False)
    e2 = m.energy(x, w, False)
    report(bool(torch.equal(e1, e2)) and e1.shape == (2,), "the energy is deterministic without dropout, shape [N]")
    buf = torch.rand(32, 3, 16, 16, dtype=torch.float64)
    opt = torch.optim.Adam(m.parameters(), lr=3e-4, betas=(0.0, 0.999))
    before = buf.clone()
    loss = train_step(m, opt, buf, torch.rand(4, 3, 16, 16, dtype=torch.float64), 3)
    changed = int((buf != before).flatten(1).any(dim=1).sum())
    report(math.isfinite(loss.item()) and changed == 4 and float(buf.min()) >= 0 and float(buf.max()) <= 1,
           f"a training step is finite and rewrites exactly its 4 slots in [0, 1] ({changed} changed)")
    return failed


def benchmark(args):
    torch.manual_seed(args.seed)
    h, w, c = args.image
    model = ResNet32Large(c, args.filters, args.dropout)
    params = param_count(model)
    opt = torch.optim.Adam(model.parameters(), lr=3e-4, betas=(0.0, 0.999), eps=1e-8)
    buffer = torch.rand(args.capacity, c, h, w)
    train_times = []
    for i in range(args.warmup + args.iters):
        x_pos = (torch.randint(0, 256, (args.batch, c, h, w)).float() + torch.rand(args.batch, c, h, w)) / 256
        start = time.perf_counter()
        loss = train_step(model, opt, buffer, x_pos, args.steps)
        elapsed = time.perf_counter() - start
        if not math.isfinite(loss.item()):
            raise RuntimeError(f"training loss is not finite at iteration {i}: {loss.item()}")
        if i >= args.warmup:
            train_times.append(elapsed)
    sample_times = []
    x = torch.rand(args.batch, c, h, w)
    for i in range(args.warmup + args.iters):
        start = time.perf_counter()
        wts = {k: v.detach() for k, v in model.normalized(iterate=False).items()}
        x = langevin_step(model, x, wts, False)
        elapsed = time.perf_counter() - start
        if i >= args.warmup:
            sample_times.append(elapsed)
    if not bool(torch.isfinite(x).all()):
        raise RuntimeError("the sampling step produced non-finite values")
    return {
        "framework": "pytorch",
        "torch": torch.__version__,
        "params": params,
        "batch": args.batch,
        "threads": args.threads,
        "langevin_steps": args.steps,
        "train_step_s": statistics.median(train_times),
        "train_step_s_all": train_times,
        "sample_step_s": statistics.median(sample_times),
        "sample_step_s_all": sample_times,
        "forward_macs_per_image": forward_macs(h, w, c, args.filters),
    }


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line on stderr (exit status 2), without the usage text."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message}\n")


def parse_args(argv):
    parser = _Parser(prog="igebm_torch.py", description="Times IGEBM's training and sampling steps in PyTorch.")
    parser.add_argument("--filters", type=int, default=128, help="F, the base filters (default 128)")
    parser.add_argument("--image", type=int, nargs=3, default=[32, 32, 3], metavar=("H", "W", "C"),
                        help="image height, width and channels (default 32 32 3)")
    parser.add_argument("--steps", type=int, default=60, help="Langevin steps per training step (default 60)")
    parser.add_argument("--dropout", type=float, default=0.5, help="dropout in training (default 0.5)")
    parser.add_argument("--capacity", type=int, default=10000, help="replay buffer slots (default 10000)")
    parser.add_argument("--batch", type=int, required=True, help="images per step")
    parser.add_argument("--threads", type=int, required=True, help="intra-op threads")
    parser.add_argument("--warmup", type=int, required=True, help="untimed iterations before timing")
    parser.add_argument("--iters", type=int, required=True, help="timed iterations (median reported)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--check", action="store_true", help="run the self-checks first; exit 1 on failure")
    args = parser.parse_args(argv)
    for name, minimum in (("filters", 1), ("steps", 1), ("capacity", 1), ("batch", 1), ("threads", 1),
                          ("warmup", 0), ("iters", 1)):
        value = getattr(args, name)
        if value < minimum:
            parser.error(f"--{name} must be >= {minimum}, got {value}")
    if not 0.0 <= args.dropout < 1.0:
        parser.error(f"--dropout must be in [0, 1), got {args.dropout}")
    h, w, c = args.image
    if min(h, w, c) < 1 or h % 8 or w % 8:
        parser.error(f"--image H W C must be positive with H and W multiples of 8 (three poolings), got {h} {w} {c}")
    if args.batch > args.capacity:
        parser.error(f"--batch {args.batch} exceeds --capacity {args.capacity}")
    return args


def main(argv):
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.set_num_interop_threads(1)
    torch.set_default_dtype(torch.float32)
    if args.check:
        failed = run_checks(args)
        if failed:
            print(f"igebm_torch.py: {failed} self-check(s) failed", file=sys.stderr)
            return 1
    print(json.dumps(benchmark(args)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
