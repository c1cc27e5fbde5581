#!/usr/bin/python3
"""Reference outputs of SN-GAN's ResNet generator and critic for dev.genzoo.graphs.sngan.SnganNetworksTest.

A PyTorch reimplementation of Mimicry's SNGAN32 networks (Lee and Town 2020, github kwotsin/mimicry:
torch_mimicry/nets/sngan/sngan_32.py ResNetGenerator32 / ResNetDiscriminator32, nets/modules/resblocks.py GBlock,
DBlock, DBlockOptimized, nets/modules/layers.py SNConv2d / SNLinear = torch.nn.utils.spectral_norm), written from
that code's structure with the same module names, so that state_dict keys equal Mimicry's:

  G: l1 = Linear(nz, b*b*ngf) (Xavier gain 1), h = l1(z).view(N, ngf, b, b); block2 .. block<k+1> = GBlock(ngf, ngf,
     upsample) with b1 = BN(in), c1 = Conv3x3 (gain sqrt 2), b2 = BN, c2 = Conv3x3 (gain sqrt 2), c_sc = Conv1x1
     (gain 1); residual c2(relu(b2(c1(up(relu(b1(x))))))), shortcut c_sc(up(x)), up = bilinear x2,
     align_corners=False; then b<k+2> = BN, ReLU, c<k+2> = Conv3x3 to 3 channels (gain 1), tanh.
  D: block1 = DBlockOptimized(3, ndf): pool(c2(relu(c1(x)))) + c_sc(pool(x)); block2 = DBlock(ndf, ndf, down):
     pool(c2(relu(c1(relu(x))))) + pool(c_sc(x)); block3, block4 = DBlock(ndf, ndf): c2(relu(c1(relu(x)))) + x;
     ReLU, sum over H and W, l5 = Linear(ndf, 1) (gain 1); every conv and linear wrapped in spectral_norm (one power
     iteration per training-mode call); pool = 2x2 average pooling.
  Biases keep PyTorch's default initialisation (Mimicry only re-initialises weights).

The fixture (sngan_resnet_32.npz, numpy.savez, float32 unless noted) holds, under genzoo's names in TensorFlow layout
(conv OIHW -> HWIO kernels, linear [out, in] -> [in, out] kernels):
  generator/l1/{kernel,bias}, generator/block<i>/{b1,b2}/{gamma,beta,moving_mean,moving_variance}
      (PyTorch weight, bias, running_mean, running_var), generator/block<i>/{c1,c2,c_sc}/{kernel,bias},
      generator/b<k+2>/..., generator/c<k+2>/...;
  critic/block<i>/{c1,c2,c_sc}/{kernel,kernel_u,bias} (PyTorch weight_orig, weight_u, bias; weight_v is dropped),
      critic/l5/{kernel,kernel_u,bias};
  input/z [N, nz]; input/x [N, 32, 32, 3] NHWC in [-1, 1];
  output/g_eval [N, 32, 32, 3]: G(z) in eval mode (BatchNorm running statistics, perturbed to non-trivial values);
  output/g_eval_nearest: the same with nearest-neighbour up-sampling (the paper's Chainer code) instead of bilinear;
  output/g_train: G(z) in training mode (batch statistics, biased variance);
  output/d_train [N]: D(x) in training mode (one power iteration from the stored u);
  output/u_next/<critic kernel name>: the vectors u after that call (PyTorch's weight_u);
  output/d_eval [N]: D(x) in eval mode with weight_v set to W^T u / |W^T u| for the stored u (sigma = |W^T u|);
  meta/{nz,ngf,ndf,bottom_width,image}: the tiny configuration (int64);
  meta/params_g, meta/params_d: parameter counts of that tiny pair;
  meta/params_g_cifar10, meta/params_d_cifar10: of Mimicry's SNGAN32 at nz 128, ngf 256, ndf 128, bottom width 4.
Outputs are computed in float64 from the float32-rounded parameters and inputs, then rounded to float32.

Run: /usr/bin/python3 make_fixtures.py (writes sngan_resnet_32.npz beside this script).
"""
import math
import os

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn


def sn(module):
    return nn.utils.spectral_norm(module)


def xavier(weight, gain):
    nn.init.xavier_uniform_(weight, gain)


class GBlock(nn.Module):
    def __init__(self, in_ch, out_ch, upsample=True):
        super().__init__()
        self.upsample = upsample
        self.learnable_sc = in_ch != out_ch or upsample
        self.b1 = nn.BatchNorm2d(in_ch)
        self.c1 = nn.Conv2d(in_ch, out_ch, 3, 1, padding=1)
        self.b2 = nn.BatchNorm2d(out_ch)
        self.c2 = nn.Conv2d(out_ch, out_ch, 3, 1, padding=1)
        xavier(self.c1.weight.data, math.sqrt(2.0))
        xavier(self.c2.weight.data, math.sqrt(2.0))
        if self.learnable_sc:
            self.c_sc = nn.Conv2d(in_ch, out_ch, 1, 1, padding=0)
            xavier(self.c_sc.weight.data, 1.0)

    mode = "bilinear"  # Mimicry's; "nearest" is the paper's Chainer code (output/g_eval_nearest)

    @classmethod
    def up(cls, x):
        if cls.mode == "nearest":
            return F.interpolate(x, scale_factor=2, mode="nearest")
        return F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)

    def forward(self, x):
        h = F.relu(self.b1(x))
        h = self.c1(self.up(h) if self.upsample else h)
        h = self.c2(F.relu(self.b2(h)))
        sc = x
        if self.learnable_sc:
            sc = self.c_sc(self.up(x) if self.upsample else x)
        return h + sc


class DBlock(nn.Module):
    def __init__(self, in_ch, out_ch, downsample=False):
        super().__init__()
        self.downsample = downsample
        self.learnable_sc = in_ch != out_ch or downsample
        self.c1 = sn(nn.Conv2d(in_ch, in_ch, 3, 1, 1))
        self.c2 = sn(nn.Conv2d(in_ch, out_ch, 3, 1, 1))
        xavier(self.c1.weight.data, math.sqrt(2.0))
        xavier(self.c2.weight.data, math.sqrt(2.0))
        if self.learnable_sc:
            self.c_sc = sn(nn.Conv2d(in_ch, out_ch, 1, 1, 0))
            xavier(self.c_sc.weight.data, 1.0)

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
        xavier(self.c1.weight.data, math.sqrt(2.0))
        xavier(self.c2.weight.data, math.sqrt(2.0))
        xavier(self.c_sc.weight.data, 1.0)

    def forward(self, x):
        h = F.avg_pool2d(self.c2(F.relu(self.c1(x))), 2)
        return h + self.c_sc(F.avg_pool2d(x, 2))


class Generator(nn.Module):
    """ResNetGenerator32 generalised to k = log2(H / bottom_width) blocks (k = 3: Mimicry's block2..block4, b5, c5)."""

    def __init__(self, nz, ngf, bottom_width, size):
        super().__init__()
        self.nz, self.ngf, self.bottom_width = nz, ngf, bottom_width
        k = int(round(math.log2(size // bottom_width)))
        self.k = k
        self.l1 = nn.Linear(nz, bottom_width ** 2 * ngf)
        for i in range(k):
            setattr(self, f"block{i + 2}", GBlock(ngf, ngf, upsample=True))
        setattr(self, f"b{k + 2}", nn.BatchNorm2d(ngf))
        setattr(self, f"c{k + 2}", nn.Conv2d(ngf, 3, 3, 1, padding=1))
        xavier(self.l1.weight.data, 1.0)
        xavier(getattr(self, f"c{k + 2}").weight.data, 1.0)

    def forward(self, z):
        h = self.l1(z).view(z.shape[0], -1, self.bottom_width, self.bottom_width)
        for i in range(self.k):
            h = getattr(self, f"block{i + 2}")(h)
        h = F.relu(getattr(self, f"b{self.k + 2}")(h))
        return torch.tanh(getattr(self, f"c{self.k + 2}")(h))


class Critic(nn.Module):
    """ResNetDiscriminator32."""

    def __init__(self, ndf):
        super().__init__()
        self.block1 = DBlockOptimized(3, ndf)
        self.block2 = DBlock(ndf, ndf, downsample=True)
        self.block3 = DBlock(ndf, ndf, downsample=False)
        self.block4 = DBlock(ndf, ndf, downsample=False)
        self.l5 = sn(nn.Linear(ndf, 1))
        xavier(self.l5.weight.data, 1.0)

    def forward(self, x):
        h = self.block4(self.block3(self.block2(self.block1(x))))
        h = torch.sum(F.relu(h), dim=(2, 3))
        return self.l5(h)


def count(module):
    return sum(p.numel() for p in module.parameters())


def tf_name(prefix, key):
    """A state_dict key to genzoo's name; None for what genzoo does not store."""
    parts = key.split(".")
    leaf = parts[-1]
    path = "/".join(parts[:-1])
    if leaf in ("weight_v", "num_batches_tracked"):
        return None
    bn = {"running_mean": "moving_mean", "running_var": "moving_variance"}
    if leaf in bn:
        return f"{prefix}/{path}/{bn[leaf]}"
    is_bn = prefix == "generator" and (parts[-2].startswith("b") and not parts[-2].startswith("block"))
    if leaf == "weight" and is_bn:
        return f"{prefix}/{path}/gamma"
    if leaf == "bias" and is_bn:
        return f"{prefix}/{path}/beta"
    if leaf in ("weight", "weight_orig"):
        return f"{prefix}/{path}/kernel"
    if leaf == "weight_u":
        return f"{prefix}/{path}/kernel_u"
    if leaf == "bias":
        return f"{prefix}/{path}/bias"
    raise ValueError(key)


def tf_layout(name, value):
    if name.endswith("/kernel"):
        if value.ndim == 4:
            return value.transpose(2, 3, 1, 0)
        return value.T
    return value


def export(prefix, module):
    out = {}
    for key, value in module.state_dict().items():
        name = tf_name(prefix, key)
        if name is not None:
            out[name] = tf_layout(name, value.detach().cpu().numpy().astype(np.float32))
    return out


def main():
    torch.manual_seed(20180216)  # SN-GAN's arXiv date
    nz, ngf, ndf, bottom, size, n = 8, 16, 16, 4, 32, 4
    gen = Generator(nz, ngf, bottom, size)
    critic = Critic(ndf)
    with torch.no_grad():
        for mod in gen.modules():
            if isinstance(mod, nn.BatchNorm2d):
                mod.weight.copy_(1 + 0.2 * torch.randn_like(mod.weight))
                mod.bias.copy_(0.2 * torch.randn_like(mod.bias))
                mod.running_mean.copy_(0.3 * torch.randn_like(mod.running_mean))
                mod.running_var.copy_(0.5 + torch.rand_like(mod.running_var))
    z = torch.randn(n, nz)
    x = torch.rand(n, 3, size, size) * 2 - 1

    arrays = {}
    arrays.update(export("generator", gen))
    arrays.update(export("critic", critic))
    arrays["input/z"] = z.numpy().astype(np.float32)
    arrays["input/x"] = x.permute(0, 2, 3, 1).numpy().astype(np.float32)

    gen64 = gen.double()
    critic64 = critic.double()
    z64, x64 = z.double(), x.double()
    with torch.no_grad():
        gen64.eval()
        arrays["output/g_eval"] = gen64(z64).permute(0, 2, 3, 1).numpy().astype(np.float32)
        GBlock.mode = "nearest"
        arrays["output/g_eval_nearest"] = gen64(z64).permute(0, 2, 3, 1).numpy().astype(np.float32)
        GBlock.mode = "bilinear"
        saved_stats = {k: v.clone() for k, v in gen64.state_dict().items()}
        gen64.train()
        arrays["output/g_train"] = gen64(z64).permute(0, 2, 3, 1).numpy().astype(np.float32)
        gen64.load_state_dict(saved_stats)

        # Eval mode with v consistent with the stored u: sigma = u^T W v = |W^T u|.
        u_before = {k: v.clone() for k, v in critic64.state_dict().items() if k.endswith("weight_u")}
        for mod in critic64.modules():
            if hasattr(mod, "weight_u"):
                w = mod.weight_orig.reshape(mod.weight_orig.shape[0], -1)
                mod.weight_v.copy_(F.normalize(torch.mv(w.t(), mod.weight_u), dim=0, eps=1e-12))
        critic64.eval()
        arrays["output/d_eval"] = critic64(x64).reshape(-1).numpy().astype(np.float32)
        for k, v in critic64.state_dict().items():
            if k.endswith("weight_u"):
                assert torch.equal(v, u_before[k]), "eval mode changed u"
        critic64.train()
        arrays["output/d_train"] = critic64(x64).reshape(-1).numpy().astype(np.float32)
        for key, value in critic64.state_dict().items():
            if key.endswith("weight_u"):
                arrays["output/u_next/" + tf_name("critic", key)] = value.numpy().astype(np.float32)

    arrays["meta/nz"] = np.array(nz, dtype=np.int64)
    arrays["meta/ngf"] = np.array(ngf, dtype=np.int64)
    arrays["meta/ndf"] = np.array(ndf, dtype=np.int64)
    arrays["meta/bottom_width"] = np.array(bottom, dtype=np.int64)
    arrays["meta/image"] = np.array([size, size, 3], dtype=np.int64)
    arrays["meta/params_g"] = np.array(count(gen), dtype=np.int64)
    arrays["meta/params_d"] = np.array(count(critic), dtype=np.int64)
    arrays["meta/params_g_cifar10"] = np.array(count(Generator(128, 256, 4, 32)), dtype=np.int64)
    arrays["meta/params_d_cifar10"] = np.array(count(Critic(128)), dtype=np.int64)

    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "sngan_resnet_32.npz")
    with open(out, "wb") as f:
        np.savez(f, **arrays)
    print(f"wrote {out}: {len(arrays)} arrays; G {int(arrays['meta/params_g'])} / D {int(arrays['meta/params_d'])} "
          f"parameters (cifar10: G {int(arrays['meta/params_g_cifar10'])}, D {int(arrays['meta/params_d_cifar10'])}); "
          f"|G| max {np.abs(arrays['output/g_eval']).max():.3f}, D(x) {arrays['output/d_train']}")


if __name__ == "__main__":
    main()
