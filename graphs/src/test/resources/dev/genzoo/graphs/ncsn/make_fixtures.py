#!/usr/bin/env python3
"""Reference outputs of the NCSN score networks for dev.genzoo.graphs.ncsn.RefineNetTest.

A PyTorch reimplementation of the two official networks, written from the authors' code with the same module names,
so that state_dict keys equal theirs:

  * V1: CondRefineNetDilated of ermongroup/ncsn (models/cond_refinenet_dilated.py), Song & Ermon 2019,
    "Generative Modeling by Estimating Gradients of the Data Distribution";
  * V2: NCSNv2 of ermongroup/ncsnv2 (models/ncsnv2.py, models/layers.py, models/normalization.py), Song & Ermon 2020,
    "Improved Techniques for Training Score-Based Generative Models".

Each fixture is an .npz (numpy.savez, float32) holding every parameter under its genzoo name in TensorFlow layout
(see genzoo_name), the input `input/x` (NHWC, in [0, 1]), `input/sigma_index` (V1, int32), the output `output/y`
(NHWC; for V2 the raw network output before the division by sigma), the configuration (`meta/*`) and
`meta/param_count_cifar10`, the PyTorch parameter count of the same variant at ngf 128 on 32x32x3 with L = 10.

Run with a Python that has torch and numpy (scripts/make-ncsn-fixtures.sh).
"""
import os
import re
import sys
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
# Names and layouts


LIST_ITEMS = {'res1': 'block', 'res2': 'block', 'res3': 'block', 'res4': 'block', 'adapt_convs': 'block',
              'convs': 'conv', 'norms': 'norm'}
RCU = re.compile(r'^(\d+)_(\d+)_(conv|norm)$')


def genzoo_name(key, shape):
    """PyTorch state_dict key -> genzoo variable name, the rule documented in RefineNet's Javadoc:
    '.' -> '/'; a ModuleList index i after list L -> 'L/<item>_i' (item: block for res1..res4 and adapt_convs, conv for
    convs, norm for norms); an RCU attribute 'i_j_conv' / 'i_j_norm' -> 'conv_i_j' / 'norm_i_j'; a conv 'weight'
    (OIHW) -> 'kernel' (HWIO); 'embed.weight' -> 'embedding' (same [L, 3C] layout); 'bias', 'alpha', 'gamma', 'beta'
    stay; everything under 'ncsn/'."""
    parts = key.split('.')
    out = []
    for i, p in enumerate(parts):
        if p.isdigit():
            out.append(LIST_ITEMS[parts[i - 1]] + '_' + p)
            continue
        m = RCU.match(p)
        if m:
            out.append('{}_{}_{}'.format(m.group(3), m.group(1), m.group(2)))
            continue
        out.append(p)
    if out[-2:] == ['embed', 'weight']:
        out = out[:-2] + ['embedding']
    elif out[-1] == 'weight':
        assert len(shape) == 4, key
        out[-1] = 'kernel'
    else:
        assert out[-1] in ('bias', 'alpha', 'gamma', 'beta'), key
    return 'ncsn/' + '/'.join(out)


def tf_layout(key, t):
    a = t.detach().cpu().numpy().astype(np.float32)
    if key.endswith('.weight') and a.ndim == 4:
        a = a.transpose(2, 3, 1, 0)  # OIHW -> HWIO
    return np.ascontiguousarray(a)


def config(variant, ngf, image_shape, num_classes):
    h, w, c = image_shape
    assert h == w
    return SimpleNamespace(
        model=SimpleNamespace(ngf=ngf, num_classes=num_classes),
        data=SimpleNamespace(channels=c, image_size=h),
        sigmas=list(np.geomspace(1.0, 0.01, num_classes)))


def build(variant, cfg):
    return CondRefineNetDilated(cfg) if variant == 'v1' else NCSNv2(cfg)


def param_count(variant, ngf, image_shape, num_classes):
    return sum(p.numel() for p in build(variant, config(variant, ngf, image_shape, num_classes)).parameters())


def fixture(path, variant, ngf, image_shape, num_classes, batch, seed):
    torch.manual_seed(seed)
    cfg = config(variant, ngf, image_shape, num_classes)
    net = build(variant, cfg).eval()
    with torch.no_grad():
        for p in net.parameters():
            p.add_(0.05 * torch.randn_like(p))  # nothing trivially zero or one
    h, w, c = image_shape
    x = torch.rand(batch, c, h, w)
    y = torch.randint(0, num_classes, (batch,))
    with torch.no_grad():
        if variant == 'v1':
            out = net(x, y)
        else:
            out = net.raw(x)
            divided = net(x, y)
            assert torch.allclose(divided * net.sigmas[y].view(-1, 1, 1, 1), out, rtol=1e-5, atol=1e-6)
    arrays = {}
    names = set()
    for key, t in net.state_dict().items():
        if key == 'sigmas':
            continue
        name = genzoo_name(key, tuple(t.shape))
        assert name not in names, name
        names.add(name)
        arrays[name] = tf_layout(key, t)
    assert sum(a.size for a in arrays.values()) == sum(p.numel() for p in net.parameters())
    arrays['input/x'] = np.ascontiguousarray(x.numpy().transpose(0, 2, 3, 1)).astype(np.float32)
    if variant == 'v1':
        arrays['input/sigma_index'] = y.numpy().astype(np.int32)
    arrays['output/y'] = np.ascontiguousarray(out.numpy().transpose(0, 2, 3, 1)).astype(np.float32)
    arrays['meta/variant'] = np.array(1 if variant == 'v1' else 2, dtype=np.int32)
    arrays['meta/ngf'] = np.array(ngf, dtype=np.int32)
    arrays['meta/image_shape'] = np.array(image_shape, dtype=np.int32)
    arrays['meta/num_classes'] = np.array(num_classes, dtype=np.int32)
    arrays['meta/param_count'] = np.array(sum(p.numel() for p in net.parameters()), dtype=np.int64)
    arrays['meta/param_count_cifar10'] = np.array(param_count(variant, 128, (32, 32, 3), 10), dtype=np.int64)
    np.savez(path, **arrays)
    print('{}: {} parameters, output std {:.4f}, CIFAR-10 size {} parameters'.format(
        os.path.basename(path), int(arrays['meta/param_count']), float(out.std()),
        int(arrays['meta/param_count_cifar10'])))


def main():
    out_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
    torch.set_num_threads(2)
    fixture(os.path.join(out_dir, 'ncsn_v1_8x8x3.npz'), 'v1', 8, (8, 8, 3), 5, 3, seed=1)
    fixture(os.path.join(out_dir, 'ncsn_v2_8x8x3.npz'), 'v2', 8, (8, 8, 3), 5, 2, seed=2)
    fixture(os.path.join(out_dir, 'ncsn_v1_28x28x1.npz'), 'v1', 4, (28, 28, 1), 3, 2, seed=3)
    fixture(os.path.join(out_dir, 'ncsn_v2_32x32x3.npz'), 'v2', 4, (32, 32, 3), 10, 2, seed=4)


if __name__ == '__main__':
    main()
