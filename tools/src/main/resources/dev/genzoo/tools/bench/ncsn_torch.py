#!/usr/bin/python3
"""PyTorch peer of genzoo's NCSN benchmark.

Builds the noise-conditional score networks of Song & Ermon (2019, "Generative Modeling by Estimating Gradients of
the Data Distribution": CondRefineNetDilated, `--variant v1`) and Song & Ermon (2020, "Improved Techniques for
Training Score-Based Generative Models": NCSNv2's RefineNet, `--variant v2`, the default), with the module structure
of the authors' code (ermongroup/ncsn and ermongroup/ncsnv2). genzoo's RefineNet test fixtures (graphs'
src/test/resources/dev/genzoo/graphs/ncsn/make_fixtures.py) load their networks from this file, so genzoo's network
is tested against these very modules. It times two steps on the CPU, in fp32 or, with `--bf16`, with the forward
passes under torch.autocast("cpu", dtype=torch.bfloat16):

  * train step: images uniform on [0, 1) (8-bit values / 256 plus uniform dequantisation, as the NCSN code feeds
    them), a noise level i uniform over the L levels of each image, x~ = x + sigma_i z, the denoising score matching
    loss 1/2 sigma_i^2 ||s(x~, i) + z / sigma_i||^2 summed over pixels and averaged over the batch (anneal power 2),
    backward, optional clipping of the global gradient norm, one Adam update and, with --ema above 0, the update of
    the weights' exponential moving average (upstream's EMAHelper);
  * sample step: one annealed Langevin step x + alpha s(x, sigma_L) + sqrt(2 alpha) z with alpha = step_lr at the
    last level, for a batch of fresh uniform starts, in eval mode under no_grad. Upstream's sampler also computes
    norms and a signal-to-noise ratio for its log; that is left out (genzoo does not compute them either).

The sigmas are geometric from --sigma-begin to --sigma-end over --num-scales levels. V1 conditions every
normalisation on the level (an embedding of L rows); V2 is unconditional and divides its output by sigma_i.

Usage:
  ncsn_torch.py --batch B --threads T --warmup N1 --iters N2 [--variant v1|v2] [--ngf 128] [--image 32 32 3]
                [--sigma-begin 50] [--sigma-end 0.01] [--num-scales 232] [--lr 1e-4] [--beta1 0.9] [--beta2 0.999]
                [--eps 1e-8] [--clip 0] [--ema 0.999] [--step-lr 6.2e-6] [--seed 0] [--bf16]
The last line on stdout is one JSON object (the keys of glow_torch.py plus bf16 and variant). Bad arguments exit
with status 2 and a one-line reason on stderr.
"""

import argparse
import json
import math
import statistics
import sys
import time
from functools import partial
from types import SimpleNamespace

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

# ----------------------------------------------------------------------------------------------------------------------
# Normalisations


class InstanceNorm2dPlus(nn.Module):
    """NCSNv2 normalization.py: instance norm plus alpha times the normalised channel means; unbiased torch.var."""

    def __init__(self, num_features, bias=True):
        super().__init__()
        self.num_features = num_features
        self.bias = bias
        self.instance_norm = nn.InstanceNorm2d(num_features, affine=False, track_running_stats=False)
        self.alpha = nn.Parameter(torch.zeros(num_features))
        self.gamma = nn.Parameter(torch.zeros(num_features))
        self.alpha.data.normal_(1, 0.02)
        self.gamma.data.normal_(1, 0.02)
        if bias:
            self.beta = nn.Parameter(torch.zeros(num_features))

    def forward(self, x):
        means = torch.mean(x, dim=(2, 3))
        m = torch.mean(means, dim=-1, keepdim=True)
        v = torch.var(means, dim=-1, keepdim=True)
        means = (means - m) / (torch.sqrt(v + 1e-5))
        h = self.instance_norm(x)
        h = h + means[..., None, None] * self.alpha[..., None, None]
        out = self.gamma.view(-1, self.num_features, 1, 1) * h
        if self.bias:
            out = out + self.beta.view(-1, self.num_features, 1, 1)
        return out


class ConditionalInstanceNorm2dPlus(nn.Module):
    """NCSN cond_refinenet_dilated.py: InstanceNorm++ with [gamma | alpha | beta] from an embedding of the class."""

    def __init__(self, num_features, num_classes, bias=True):
        super().__init__()
        assert bias
        self.num_features = num_features
        self.instance_norm = nn.InstanceNorm2d(num_features, affine=False, track_running_stats=False)
        self.embed = nn.Embedding(num_classes, num_features * 3)
        self.embed.weight.data[:, :2 * num_features].normal_(1, 0.02)
        self.embed.weight.data[:, 2 * num_features:].zero_()

    def forward(self, x, y):
        means = torch.mean(x, dim=(2, 3))
        m = torch.mean(means, dim=-1, keepdim=True)
        v = torch.var(means, dim=-1, keepdim=True)
        means = (means - m) / (torch.sqrt(v + 1e-5))
        h = self.instance_norm(x)
        gamma, alpha, beta = self.embed(y).chunk(3, dim=-1)
        h = h + means[..., None, None] * alpha[..., None, None]
        return gamma.view(-1, self.num_features, 1, 1) * h + beta.view(-1, self.num_features, 1, 1)


# ----------------------------------------------------------------------------------------------------------------------
# Convolutions (note: NCSN's conv3x3 defaults to bias=False, NCSNv2's to bias=True; every call below is explicit)


def conv3x3(in_planes, out_planes, bias):
    return nn.Conv2d(in_planes, out_planes, kernel_size=3, stride=1, padding=1, bias=bias)


def dilated_conv3x3(in_planes, out_planes, dilation, bias=True):
    return nn.Conv2d(in_planes, out_planes, kernel_size=3, padding=dilation, dilation=dilation, bias=bias)


class ConvMeanPool(nn.Module):
    def __init__(self, input_dim, output_dim, kernel_size=3, biases=True, adjust_padding=False):
        super().__init__()
        conv = nn.Conv2d(input_dim, output_dim, kernel_size, stride=1, padding=kernel_size // 2, bias=biases)
        self.conv = conv if not adjust_padding else nn.Sequential(nn.ZeroPad2d((1, 0, 1, 0)), conv)

    def forward(self, inputs):
        output = self.conv(inputs)
        return sum([output[:, :, ::2, ::2], output[:, :, 1::2, ::2],
                    output[:, :, ::2, 1::2], output[:, :, 1::2, 1::2]]) / 4.


# ----------------------------------------------------------------------------------------------------------------------
# Residual blocks: one class for both papers; `num_classes` is None for the unconditional NCSNv2 block.


class ResidualBlock(nn.Module):
    """NCSNv2 ResidualBlock (num_classes None) / NCSN ConditionalResidualBlock. A 'down' block with a dilation does
    not downsample: its convolutions are all dilated stride-1 convolutions, as upstream."""

    def __init__(self, input_dim, output_dim, num_classes=None, resample=None, act=nn.ELU(), normalization=None,
                 adjust_padding=False, dilation=None):
        super().__init__()
        self.non_linearity = act
        self.input_dim = input_dim
        self.output_dim = output_dim
        self.resample = resample
        self.cond = num_classes is not None
        norm = partial(normalization, num_classes=num_classes) if self.cond else normalization
        if resample == 'down':
            if dilation is not None:
                self.conv1 = dilated_conv3x3(input_dim, input_dim, dilation=dilation)
                self.normalize2 = norm(input_dim)
                self.conv2 = dilated_conv3x3(input_dim, output_dim, dilation=dilation)
                conv_shortcut = partial(dilated_conv3x3, dilation=dilation)
            else:
                self.conv1 = conv3x3(input_dim, input_dim, bias=True)
                self.normalize2 = norm(input_dim)
                self.conv2 = ConvMeanPool(input_dim, output_dim, 3, adjust_padding=adjust_padding)
                conv_shortcut = partial(ConvMeanPool, kernel_size=1, adjust_padding=adjust_padding)
        elif resample is None:
            if dilation is not None:
                conv_shortcut = partial(dilated_conv3x3, dilation=dilation)
                self.conv1 = dilated_conv3x3(input_dim, output_dim, dilation=dilation)
                self.normalize2 = norm(output_dim)
                self.conv2 = dilated_conv3x3(output_dim, output_dim, dilation=dilation)
            else:
                conv_shortcut = None  # upstream: nn.Conv2d without a kernel size (never reached in these networks)
                self.conv1 = conv3x3(input_dim, output_dim, bias=True)
                self.normalize2 = norm(output_dim)
                self.conv2 = conv3x3(output_dim, output_dim, bias=True)
        else:
            raise ValueError(resample)
        if output_dim != input_dim or resample is not None:
            self.shortcut = conv_shortcut(input_dim, output_dim)
        self.normalize1 = norm(input_dim)

    def forward(self, x, y=None):
        n = (lambda m, h: m(h, y)) if self.cond else (lambda m, h: m(h))
        output = n(self.normalize1, x)
        output = self.non_linearity(output)
        output = self.conv1(output)
        output = n(self.normalize2, output)
        output = self.non_linearity(output)
        output = self.conv2(output)
        shortcut = x if self.output_dim == self.input_dim and self.resample is None else self.shortcut(x)
        return shortcut + output


# ----------------------------------------------------------------------------------------------------------------------
# RefineNet blocks, NCSNv2 (unconditional, no normalisation, max pooling)


class CRPBlock(nn.Module):
    def __init__(self, features, n_stages, act):
        super().__init__()
        self.convs = nn.ModuleList([conv3x3(features, features, bias=False) for _ in range(n_stages)])
        self.n_stages = n_stages
        self.maxpool = nn.MaxPool2d(kernel_size=5, stride=1, padding=2)
        self.act = act

    def forward(self, x):
        x = self.act(x)
        path = x
        for i in range(self.n_stages):
            path = self.maxpool(path)
            path = self.convs[i](path)
            x = path + x
        return x


class RCUBlock(nn.Module):
    def __init__(self, features, n_blocks, n_stages, act):
        super().__init__()
        for i in range(n_blocks):
            for j in range(n_stages):
                setattr(self, '{}_{}_conv'.format(i + 1, j + 1), conv3x3(features, features, bias=False))
        self.n_blocks = n_blocks
        self.n_stages = n_stages
        self.act = act

    def forward(self, x):
        for i in range(self.n_blocks):
            residual = x
            for j in range(self.n_stages):
                x = self.act(x)
                x = getattr(self, '{}_{}_conv'.format(i + 1, j + 1))(x)
            x = x + residual
        return x


class MSFBlock(nn.Module):
    def __init__(self, in_planes, features):
        super().__init__()
        self.convs = nn.ModuleList([conv3x3(p, features, bias=True) for p in in_planes])
        self.features = features

    def forward(self, xs, shape):
        sums = torch.zeros(xs[0].shape[0], self.features, *shape)
        for i in range(len(self.convs)):
            h = self.convs[i](xs[i])
            h = F.interpolate(h, size=shape, mode='bilinear', align_corners=True)
            sums += h
        return sums


class RefineBlock(nn.Module):
    def __init__(self, in_planes, features, act, start=False, end=False):
        super().__init__()
        self.n_blocks = n_blocks = len(in_planes)
        self.adapt_convs = nn.ModuleList([RCUBlock(in_planes[i], 2, 2, act) for i in range(n_blocks)])
        self.output_convs = RCUBlock(features, 3 if end else 1, 2, act)
        if not start:
            self.msf = MSFBlock(in_planes, features)
        self.crp = CRPBlock(features, 2, act)

    def forward(self, xs, output_shape):
        hs = [self.adapt_convs[i](xs[i]) for i in range(len(xs))]
        h = self.msf(hs, output_shape) if self.n_blocks > 1 else hs[0]
        h = self.crp(h)
        return self.output_convs(h)


# ----------------------------------------------------------------------------------------------------------------------
# RefineNet blocks, NCSN (conditional normalisation everywhere, average pooling that counts the padding)


class CondCRPBlock(nn.Module):
    def __init__(self, features, n_stages, num_classes, normalizer, act):
        super().__init__()
        self.convs = nn.ModuleList()
        self.norms = nn.ModuleList()
        for i in range(n_stages):
            self.norms.append(normalizer(features, num_classes, bias=True))
            self.convs.append(conv3x3(features, features, bias=False))
        self.n_stages = n_stages
        self.maxpool = nn.AvgPool2d(kernel_size=5, stride=1, padding=2)
        self.act = act

    def forward(self, x, y):
        x = self.act(x)
        path = x
        for i in range(self.n_stages):
            path = self.norms[i](path, y)
            path = self.maxpool(path)
            path = self.convs[i](path)
            x = path + x
        return x


class CondRCUBlock(nn.Module):
    def __init__(self, features, n_blocks, n_stages, num_classes, normalizer, act):
        super().__init__()
        for i in range(n_blocks):
            for j in range(n_stages):
                setattr(self, '{}_{}_norm'.format(i + 1, j + 1), normalizer(features, num_classes, bias=True))
                setattr(self, '{}_{}_conv'.format(i + 1, j + 1), conv3x3(features, features, bias=False))
        self.n_blocks = n_blocks
        self.n_stages = n_stages
        self.act = act

    def forward(self, x, y):
        for i in range(self.n_blocks):
            residual = x
            for j in range(self.n_stages):
                x = getattr(self, '{}_{}_norm'.format(i + 1, j + 1))(x, y)
                x = self.act(x)
                x = getattr(self, '{}_{}_conv'.format(i + 1, j + 1))(x)
            x = x + residual
        return x


class CondMSFBlock(nn.Module):
    def __init__(self, in_planes, features, num_classes, normalizer):
        super().__init__()
        self.convs = nn.ModuleList()
        self.norms = nn.ModuleList()
        self.features = features
        for p in in_planes:
            self.convs.append(conv3x3(p, features, bias=True))
            self.norms.append(normalizer(p, num_classes, bias=True))

    def forward(self, xs, y, shape):
        sums = torch.zeros(xs[0].shape[0], self.features, *shape)
        for i in range(len(self.convs)):
            h = self.norms[i](xs[i], y)
            h = self.convs[i](h)
            h = F.interpolate(h, size=shape, mode='bilinear', align_corners=True)
            sums += h
        return sums


class CondRefineBlock(nn.Module):
    def __init__(self, in_planes, features, num_classes, normalizer, act, start=False, end=False):
        super().__init__()
        self.n_blocks = n_blocks = len(in_planes)
        self.adapt_convs = nn.ModuleList(
            [CondRCUBlock(in_planes[i], 2, 2, num_classes, normalizer, act) for i in range(n_blocks)])
        self.output_convs = CondRCUBlock(features, 3 if end else 1, 2, num_classes, normalizer, act)
        if not start:
            self.msf = CondMSFBlock(in_planes, features, num_classes, normalizer)
        self.crp = CondCRPBlock(features, 2, num_classes, normalizer, act)

    def forward(self, xs, y, output_shape):
        hs = [self.adapt_convs[i](xs[i], y) for i in range(len(xs))]
        h = self.msf(hs, y, output_shape) if self.n_blocks > 1 else hs[0]
        h = self.crp(h, y)
        return self.output_convs(h, y)


# ----------------------------------------------------------------------------------------------------------------------
# The networks


class NCSNv2(nn.Module):
    """ermongroup/ncsnv2 models/ncsnv2.py NCSNv2 (the CIFAR-10 / CelebA network), data.logit_transform and
    data.rescaled false."""

    def __init__(self, config):
        super().__init__()
        self.norm = norm = InstanceNorm2dPlus
        self.ngf = ngf = config.model.ngf
        self.num_classes = config.model.num_classes
        self.act = act = nn.ELU()
        self.register_buffer('sigmas', torch.tensor(config.sigmas, dtype=torch.float32))
        self.begin_conv = nn.Conv2d(config.data.channels, ngf, 3, stride=1, padding=1)
        self.normalizer = norm(ngf, self.num_classes)  # upstream passes num_classes as `bias` (truthy)
        self.end_conv = nn.Conv2d(ngf, config.data.channels, 3, stride=1, padding=1)
        block = partial(ResidualBlock, act=act, normalization=norm)
        self.res1 = nn.ModuleList([block(ngf, ngf), block(ngf, ngf)])
        self.res2 = nn.ModuleList([block(ngf, 2 * ngf, resample='down'), block(2 * ngf, 2 * ngf)])
        self.res3 = nn.ModuleList([block(2 * ngf, 2 * ngf, resample='down', dilation=2),
                                   block(2 * ngf, 2 * ngf, dilation=2)])
        self.res4 = nn.ModuleList([block(2 * ngf, 2 * ngf, resample='down', dilation=4,
                                         adjust_padding=config.data.image_size == 28),
                                   block(2 * ngf, 2 * ngf, dilation=4)])
        self.refine1 = RefineBlock([2 * ngf], 2 * ngf, act=act, start=True)
        self.refine2 = RefineBlock([2 * ngf, 2 * ngf], 2 * ngf, act=act)
        self.refine3 = RefineBlock([2 * ngf, 2 * ngf], ngf, act=act)
        self.refine4 = RefineBlock([ngf, ngf], ngf, act=act, end=True)

    def raw(self, x):
        """Everything but the division by sigma."""
        h = 2 * x - 1.
        output = self.begin_conv(h)
        layer1 = output
        for m in self.res1:
            layer1 = m(layer1)
        layer2 = layer1
        for m in self.res2:
            layer2 = m(layer2)
        layer3 = layer2
        for m in self.res3:
            layer3 = m(layer3)
        layer4 = layer3
        for m in self.res4:
            layer4 = m(layer4)
        ref1 = self.refine1([layer4], layer4.shape[2:])
        ref2 = self.refine2([layer3, ref1], layer3.shape[2:])
        ref3 = self.refine3([layer2, ref2], layer2.shape[2:])
        output = self.refine4([layer1, ref3], layer1.shape[2:])
        output = self.normalizer(output)
        output = self.act(output)
        return self.end_conv(output)

    def forward(self, x, y):
        used_sigmas = self.sigmas[y].view(x.shape[0], *([1] * len(x.shape[1:])))
        return self.raw(x) / used_sigmas


class CondRefineNetDilated(nn.Module):
    """ermongroup/ncsn models/cond_refinenet_dilated.py CondRefineNetDilated, data.logit_transform false."""

    def __init__(self, config):
        super().__init__()
        self.norm = norm = ConditionalInstanceNorm2dPlus
        self.ngf = ngf = config.model.ngf
        self.num_classes = L = config.model.num_classes
        self.act = act = nn.ELU()
        self.begin_conv = nn.Conv2d(config.data.channels, ngf, 3, stride=1, padding=1)
        self.normalizer = norm(ngf, L)
        self.end_conv = nn.Conv2d(ngf, config.data.channels, 3, stride=1, padding=1)
        block = partial(ResidualBlock, num_classes=L, act=act, normalization=norm)
        self.res1 = nn.ModuleList([block(ngf, ngf), block(ngf, ngf)])
        self.res2 = nn.ModuleList([block(ngf, 2 * ngf, resample='down'), block(2 * ngf, 2 * ngf)])
        self.res3 = nn.ModuleList([block(2 * ngf, 2 * ngf, resample='down', dilation=2),
                                   block(2 * ngf, 2 * ngf, dilation=2)])
        self.res4 = nn.ModuleList([block(2 * ngf, 2 * ngf, resample='down', dilation=4,
                                         adjust_padding=config.data.image_size == 28),
                                   block(2 * ngf, 2 * ngf, dilation=4)])
        self.refine1 = CondRefineBlock([2 * ngf], 2 * ngf, L, norm, act=act, start=True)
        self.refine2 = CondRefineBlock([2 * ngf, 2 * ngf], 2 * ngf, L, norm, act=act)
        self.refine3 = CondRefineBlock([2 * ngf, 2 * ngf], ngf, L, norm, act=act)
        self.refine4 = CondRefineBlock([ngf, ngf], ngf, L, norm, act=act, end=True)

    def forward(self, x, y):
        x = 2 * x - 1.
        output = self.begin_conv(x)
        layer1 = output
        for m in self.res1:
            layer1 = m(layer1, y)
        layer2 = layer1
        for m in self.res2:
            layer2 = m(layer2, y)
        layer3 = layer2
        for m in self.res3:
            layer3 = m(layer3, y)
        layer4 = layer3
        for m in self.res4:
            layer4 = m(layer4, y)
        ref1 = self.refine1([layer4], y, layer4.shape[2:])
        ref2 = self.refine2([layer3, ref1], y, layer3.shape[2:])
        ref3 = self.refine3([layer2, ref2], y, layer2.shape[2:])
        output = self.refine4([layer1, ref3], y, layer1.shape[2:])
        output = self.normalizer(output, y)
        output = self.act(output)
        return self.end_conv(output)



# ----------------------------------------------------------------------------------------------------------------------
# The benchmark


def geometric_sigmas(begin, end, n):
    """genzoo's NoiseLevels.geometric: sigma_1 = begin, sigma_L = end, geometric in between."""
    if n == 1:
        return [begin]
    s = list(np.exp(np.linspace(np.log(begin), np.log(end), n)))
    s[0], s[-1] = begin, end
    return s


def count(module):
    return sum(p.numel() for p in module.parameters())


def benchmark(args):
    h, w, c = args.image
    torch.manual_seed(args.seed)
    sigmas_list = geometric_sigmas(args.sigma_begin, args.sigma_end, args.num_scales)
    cfg = SimpleNamespace(model=SimpleNamespace(ngf=args.ngf, num_classes=args.num_scales),
                          data=SimpleNamespace(channels=c, image_size=h), sigmas=sigmas_list)
    net = CondRefineNetDilated(cfg) if args.variant == "v1" else NCSNv2(cfg)
    sigmas = torch.tensor(sigmas_list, dtype=torch.float32)
    score = net  # s(x, i): V1 returns it, NCSNv2's forward divides its output by sigma_i
    opt = torch.optim.Adam(net.parameters(), lr=args.lr, betas=(args.beta1, args.beta2), eps=args.eps)
    shadow = [p.detach().clone() for p in net.parameters()] if args.ema > 0 else None
    autocast = (lambda: torch.autocast("cpu", dtype=torch.bfloat16)) if args.bf16 else None

    def forward(x, labels):
        if autocast:
            with autocast():
                return score(x, labels).float()
        return score(x, labels)

    def train_step(x):
        net.train()
        labels = torch.randint(0, len(sigmas_list), (x.shape[0],))
        used = sigmas[labels].view(x.shape[0], 1, 1, 1)
        z = torch.randn_like(x)
        perturbed = x + used * z
        s = forward(perturbed, labels)
        loss = (0.5 * ((used * s + z) ** 2).flatten(1).sum(dim=1)).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        if args.clip > 0:
            torch.nn.utils.clip_grad_norm_(net.parameters(), args.clip)
        opt.step()
        if shadow is not None:
            with torch.no_grad():
                for sh, p in zip(shadow, net.parameters()):
                    sh.mul_(args.ema).add_(p.detach(), alpha=1 - args.ema)
        return loss.item()

    train_times = []
    for i in range(args.warmup + args.iters):
        x = torch.rand(args.batch, c, h, w)
        start = time.perf_counter()
        loss = train_step(x)
        elapsed = time.perf_counter() - start
        if not math.isfinite(loss):
            raise RuntimeError(f"the loss is not finite at iteration {i}: {loss}")
        if i >= args.warmup:
            train_times.append(elapsed)

    net.eval()
    last = len(sigmas_list) - 1
    alpha = args.step_lr  # eps sigma_L^2 / sigma_L^2 at the last level
    labels = torch.full((args.batch,), last, dtype=torch.long)
    sample_times = []
    with torch.no_grad():
        for i in range(args.warmup + args.iters):
            x = torch.rand(args.batch, c, h, w)
            start = time.perf_counter()
            grad = forward(x, labels)
            x = x + alpha * grad + math.sqrt(2 * alpha) * torch.randn_like(x)
            elapsed = time.perf_counter() - start
            if i >= args.warmup:
                sample_times.append(elapsed)
    if not bool(torch.isfinite(x).all()):
        raise RuntimeError("the Langevin step produced non-finite values")

    return {
        "framework": "pytorch",
        "torch": torch.__version__,
        "params": count(net),
        "variant": args.variant,
        "batch": args.batch,
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
    p = _Parser(prog="ncsn_torch.py", description="Times an NCSN training step and Langevin step in PyTorch.")
    p.add_argument("--variant", choices=["v1", "v2"], default="v2",
                   help="v1: CondRefineNetDilated (NCSN); v2: NCSNv2's RefineNet (default)")
    p.add_argument("--ngf", type=int, default=128, help="base channels (default 128)")
    p.add_argument("--image", type=int, nargs=3, default=[32, 32, 3], metavar=("H", "W", "C"),
                   help="image height, width and channels (default 32 32 3)")
    p.add_argument("--sigma-begin", type=float, default=50.0, help="the largest noise level (default 50)")
    p.add_argument("--sigma-end", type=float, default=0.01, help="the smallest noise level (default 0.01)")
    p.add_argument("--num-scales", type=int, default=232, help="noise levels L (default 232)")
    p.add_argument("--lr", type=float, default=1e-4, help="Adam learning rate (default 1e-4)")
    p.add_argument("--beta1", type=float, default=0.9, help="Adam beta1 (default 0.9)")
    p.add_argument("--beta2", type=float, default=0.999, help="Adam beta2 (default 0.999)")
    p.add_argument("--eps", type=float, default=1e-8, help="Adam epsilon (default 1e-8)")
    p.add_argument("--clip", type=float, default=0.0, help="clip the global gradient norm to this (default 0: off)")
    p.add_argument("--ema", type=float, default=0.999, help="EMA decay of the weights (default 0.999; 0: off)")
    p.add_argument("--step-lr", type=float, default=6.2e-6, help="Langevin step scale epsilon (default 6.2e-6)")
    p.add_argument("--batch", type=int, required=True, help="images per step")
    p.add_argument("--threads", type=int, required=True, help="intra-op threads")
    p.add_argument("--warmup", type=int, required=True, help="untimed iterations before timing")
    p.add_argument("--iters", type=int, required=True, help="timed iterations (median reported)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--bf16", action="store_true", help="run forward passes under CPU autocast to bfloat16")
    args = p.parse_args(argv)
    for name, minimum in (("ngf", 1), ("num_scales", 1), ("batch", 1), ("threads", 1), ("warmup", 0), ("iters", 1)):
        if getattr(args, name) < minimum:
            p.error(f"--{name.replace('_', '-')} must be >= {minimum}, got {getattr(args, name)}")
    if not (args.sigma_begin >= args.sigma_end > 0):
        p.error(f"need --sigma-begin >= --sigma-end > 0, got {args.sigma_begin} and {args.sigma_end}")
    if not (0 <= args.ema < 1) or args.clip < 0 or not args.step_lr > 0 or not args.lr > 0:
        p.error("--ema must lie in [0, 1), --clip must not be negative, --lr and --step-lr must be positive")
    h, w, c = args.image
    if h != w or c < 1 or h < 4:
        p.error(f"--image {h} {w} {c}: square images of at least 4x4 and one channel")
    return args


def main(argv):
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.set_num_interop_threads(1)
    print(json.dumps(benchmark(args)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
