#!/usr/bin/python3
"""PyTorch peer of genzoo's SN-GAN benchmark.

Builds SN-GAN's ResNet generator and critic (Miyato, Kataoka, Koyama and Yoshida 2018, "Spectral Normalization for
Generative Adversarial Networks", appendix B.4) with the structure, module names and initialisation of Mimicry's
SNGAN32 (Lee and Town 2020, github kwotsin/mimicry: nets/sngan/sngan_32.py, nets/modules/resblocks.py), and times one
generator iteration of Mimicry's training loop: n_dis critic updates (each on its own batch of real images and a
fresh batch of G(z), detached; hinge loss; Adam) and one generator update (hinge loss -E[D(G(z))]; Adam), with the
learning rate of both optimisers set for the iteration (linear decay), and one sampling step (G in eval mode on a
batch of z). Prints one JSON line. genzoo's `bench --family sngan` extracts this file from its jar, runs it with
/usr/bin/python3 and reports the ratio beside its own timing of the same networks and step.

The networks (genzoo's SnganModel builds the same, NHWC there, NCHW here):
  G: l1 = Linear(nz, b*b*ngf), view [N, ngf, b, b]; k = log2(H / b) GBlocks (BN, ReLU, bilinear x2
     (align_corners=False; --upsample nearest for the paper's Chainer code), conv3x3, BN, ReLU, conv3x3; shortcut
     bilinear x2 then conv1x1); BN, ReLU, conv3x3 to C, tanh.
  D: DBlockOptimized(C, ndf) (conv3x3, ReLU, conv3x3, avgpool2 + conv1x1 of avgpool2), DBlock(ndf, ndf, down)
     (ReLU, conv3x3, ReLU, conv3x3, avgpool2 + avgpool2 of conv1x1), two DBlock(ndf, ndf) (identity shortcut);
     ReLU, sum over H and W, Linear(ndf, 1); every conv and linear under torch.nn.utils.spectral_norm.
  Kernels Xavier-uniform (gain sqrt 2 in the residual convolutions, 1 elsewhere), biases PyTorch's default.

Each critic update calls D twice (real, then fake) as Mimicry does, so it runs two power iterations; genzoo feeds
real and fake through D as one batch with one power iteration. The convolution work is the same.

Usage:
  sngan_torch.py --batch B --threads T --warmup N1 --iters N2 [--nz 128] [--ngf 256] [--ndf 128]
                 [--bottom-width 4] [--image 32 32 3] [--n-dis 5] [--upsample bilinear|nearest] [--lr 2e-4]
                 [--steps 100000] [--seed 0] [--bf16]
The last line on stdout is the JSON result. Bad arguments exit with status 2 and a one-line reason on stderr.
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


def sn(module):
    return nn.utils.spectral_norm(module)


class GBlock(nn.Module):
    def __init__(self, in_ch, out_ch, mode):
        super().__init__()
        self.mode = mode
        self.b1 = nn.BatchNorm2d(in_ch)
        self.c1 = nn.Conv2d(in_ch, out_ch, 3, 1, padding=1)
        self.b2 = nn.BatchNorm2d(out_ch)
        self.c2 = nn.Conv2d(out_ch, out_ch, 3, 1, padding=1)
        self.c_sc = nn.Conv2d(in_ch, out_ch, 1, 1, padding=0)
        nn.init.xavier_uniform_(self.c1.weight.data, math.sqrt(2.0))
        nn.init.xavier_uniform_(self.c2.weight.data, math.sqrt(2.0))
        nn.init.xavier_uniform_(self.c_sc.weight.data, 1.0)

    def up(self, x):
        if self.mode == "nearest":
            return F.interpolate(x, scale_factor=2, mode="nearest")
        return F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)

    def forward(self, x):
        h = self.c1(self.up(F.relu(self.b1(x))))
        h = self.c2(F.relu(self.b2(h)))
        return h + self.c_sc(self.up(x))


class DBlock(nn.Module):
    def __init__(self, in_ch, out_ch, downsample):
        super().__init__()
        self.downsample = downsample
        self.learnable_sc = in_ch != out_ch or downsample
        self.c1 = sn(nn.Conv2d(in_ch, in_ch, 3, 1, 1))
        self.c2 = sn(nn.Conv2d(in_ch, out_ch, 3, 1, 1))
        nn.init.xavier_uniform_(self.c1.weight.data, math.sqrt(2.0))
        nn.init.xavier_uniform_(self.c2.weight.data, math.sqrt(2.0))
        if self.learnable_sc:
            self.c_sc = sn(nn.Conv2d(in_ch, out_ch, 1, 1, 0))
            nn.init.xavier_uniform_(self.c_sc.weight.data, 1.0)

    def forward(self, x):
        h = self.c2(F.relu(self.c1(F.relu(x))))
        if self.downsample:
            h = F.avg_pool2d(h, 2)
        sc = x
        if self.learnable_sc:
            sc = self.c_sc(x)
            if self.downsample:
                sc = F.avg_pool2d(sc, 2)
        return h + sc


class DBlockOptimized(nn.Module):
    def __init__(self, in_ch, out_ch):
        super().__init__()
        self.c1 = sn(nn.Conv2d(in_ch, out_ch, 3, 1, 1))
        self.c2 = sn(nn.Conv2d(out_ch, out_ch, 3, 1, 1))
        self.c_sc = sn(nn.Conv2d(in_ch, out_ch, 1, 1, 0))
        nn.init.xavier_uniform_(self.c1.weight.data, math.sqrt(2.0))
        nn.init.xavier_uniform_(self.c2.weight.data, math.sqrt(2.0))
        nn.init.xavier_uniform_(self.c_sc.weight.data, 1.0)

    def forward(self, x):
        return F.avg_pool2d(self.c2(F.relu(self.c1(x))), 2) + self.c_sc(F.avg_pool2d(x, 2))


class Generator(nn.Module):
    def __init__(self, nz, ngf, bottom_width, size, channels, mode):
        super().__init__()
        self.nz, self.bottom_width = nz, bottom_width
        self.k = int(round(math.log2(size // bottom_width)))
        self.l1 = nn.Linear(nz, bottom_width ** 2 * ngf)
        self.blocks = nn.ModuleList([GBlock(ngf, ngf, mode) for _ in range(self.k)])
        self.b_out = nn.BatchNorm2d(ngf)
        self.c_out = nn.Conv2d(ngf, channels, 3, 1, padding=1)
        nn.init.xavier_uniform_(self.l1.weight.data, 1.0)
        nn.init.xavier_uniform_(self.c_out.weight.data, 1.0)

    def forward(self, z):
        h = self.l1(z).view(z.shape[0], -1, self.bottom_width, self.bottom_width)
        for block in self.blocks:
            h = block(h)
        return torch.tanh(self.c_out(F.relu(self.b_out(h))))


class Critic(nn.Module):
    def __init__(self, ndf, channels):
        super().__init__()
        self.block1 = DBlockOptimized(channels, ndf)
        self.block2 = DBlock(ndf, ndf, True)
        self.block3 = DBlock(ndf, ndf, False)
        self.block4 = DBlock(ndf, ndf, False)
        self.l5 = sn(nn.Linear(ndf, 1))
        nn.init.xavier_uniform_(self.l5.weight.data, 1.0)

    def forward(self, x):
        h = self.block4(self.block3(self.block2(self.block1(x))))
        return self.l5(torch.sum(F.relu(h), dim=(2, 3)))


def count(module):
    return sum(p.numel() for p in module.parameters())


def benchmark(args):
    h, w, c = args.image
    torch.manual_seed(args.seed)
    gen = Generator(args.nz, args.ngf, args.bottom_width, h, c, args.upsample)
    critic = Critic(args.ndf, c)
    opt_g = torch.optim.Adam(gen.parameters(), args.lr, betas=(0.0, 0.9))
    opt_d = torch.optim.Adam(critic.parameters(), args.lr, betas=(0.0, 0.9))
    autocast = (lambda: torch.autocast("cpu", dtype=torch.bfloat16)) if args.bf16 else None

    def forward(net, x):
        if autocast:
            with autocast():
                return net(x).float()
        return net(x)

    def iteration(step, reals):
        lr = args.lr * (1.0 - step / args.steps)
        for opt in (opt_g, opt_d):
            opt.param_groups[0]["lr"] = lr
        gen.train()
        critic.train()
        d_losses = []
        for real in reals:
            opt_d.zero_grad(set_to_none=True)
            d_real = forward(critic, real)
            fake = forward(gen, torch.randn(real.shape[0], args.nz)).detach()
            d_fake = forward(critic, fake)
            d_loss = F.relu(1.0 - d_real).mean() + F.relu(1.0 + d_fake).mean()
            d_loss.backward()
            opt_d.step()
            d_losses.append(d_loss.item())
        opt_g.zero_grad(set_to_none=True)
        g_loss = -forward(critic, forward(gen, torch.randn(args.batch, args.nz))).mean()
        g_loss.backward()
        opt_g.step()
        return sum(d_losses) / len(d_losses), g_loss.item()

    train_times = []
    for i in range(args.warmup + args.iters):
        reals = [torch.rand(args.batch, c, h, w) * 2.0 - 1.0 for _ in range(args.n_dis)]
        start = time.perf_counter()
        d_loss, g_loss = iteration(i, reals)
        elapsed = time.perf_counter() - start
        if not (math.isfinite(d_loss) and math.isfinite(g_loss)):
            raise RuntimeError(f"losses are not finite at iteration {i}: {d_loss}, {g_loss}")
        if i >= args.warmup:
            train_times.append(elapsed)

    gen.eval()
    sample_times = []
    with torch.no_grad():
        for i in range(args.warmup + args.iters):
            start = time.perf_counter()
            x = (forward(gen, torch.randn(args.batch, args.nz)) + 1) / 2
            elapsed = time.perf_counter() - start
            if i >= args.warmup:
                sample_times.append(elapsed)
    if not bool(torch.isfinite(x).all()):
        raise RuntimeError("the generator produced non-finite values")

    return {
        "framework": "pytorch",
        "torch": torch.__version__,
        "params": count(gen) + count(critic),
        "params_g": count(gen),
        "params_d": count(critic),
        "batch": args.batch,
        "n_dis": args.n_dis,
        "threads": args.threads,
        "bf16": bool(args.bf16),
        "train_step_s": statistics.median(train_times),
        "train_step_s_all": train_times,
        "sample_step_s": statistics.median(sample_times),
        "sample_step_s_all": sample_times,
    }


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line on stderr (exit status 2), without the usage text."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message}\n")


def parse_args(argv):
    p = _Parser(prog="sngan_torch.py", description="Times an SN-GAN generator iteration in PyTorch.")
    p.add_argument("--nz", type=int, default=128, help="latent dimension (default 128)")
    p.add_argument("--ngf", type=int, default=256, help="generator channels (default 256)")
    p.add_argument("--ndf", type=int, default=128, help="critic channels (default 128)")
    p.add_argument("--bottom-width", type=int, default=4, help="generator's first feature map size (default 4)")
    p.add_argument("--image", type=int, nargs=3, default=[32, 32, 3], metavar=("H", "W", "C"),
                   help="image height, width and channels (default 32 32 3)")
    p.add_argument("--n-dis", type=int, default=5, help="critic updates per generator update (default 5)")
    p.add_argument("--upsample", choices=["bilinear", "nearest"], default="bilinear",
                   help="the generator blocks' up-sampling (default bilinear, as Mimicry)")
    p.add_argument("--lr", type=float, default=2e-4, help="Adam learning rate (default 2e-4)")
    p.add_argument("--steps", type=int, default=100000, help="iterations of the linear decay (default 100000)")
    p.add_argument("--batch", type=int, required=True, help="images per critic update and per generator update")
    p.add_argument("--threads", type=int, required=True, help="intra-op threads")
    p.add_argument("--warmup", type=int, required=True, help="untimed iterations before timing")
    p.add_argument("--iters", type=int, required=True, help="timed iterations (median reported)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--bf16", action="store_true", help="run forward passes under CPU autocast to bfloat16")
    args = p.parse_args(argv)
    for name, minimum in (("nz", 1), ("ngf", 1), ("ndf", 1), ("bottom_width", 1), ("n_dis", 1), ("steps", 1),
                          ("batch", 1), ("threads", 1), ("warmup", 0), ("iters", 1)):
        if getattr(args, name) < minimum:
            p.error(f"--{name.replace('_', '-')} must be >= {minimum}, got {getattr(args, name)}")
    h, w, c = args.image
    if h != w or c < 1 or h % 4 or h % args.bottom_width or (h // args.bottom_width) & (h // args.bottom_width - 1) \
            or h // args.bottom_width < 2:
        p.error(f"--image {h} {w} {c}: square, size divisible by 4 and bottom width x a power of two >= 2")
    return args


def main(argv):
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.set_num_interop_threads(1)
    print(json.dumps(benchmark(args)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
