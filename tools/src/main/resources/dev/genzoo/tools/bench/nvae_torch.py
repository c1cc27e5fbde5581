#!/usr/bin/python3
"""PyTorch peer of genzoo's NVAE benchmark.

Builds the AutoEncoder of Vahdat & Kautz 2020 ("NVAE: A Deep Hierarchical Variational Autoencoder", NeurIPS 2020,
arXiv:2007.03898) as the authors' code defines it (github NVlabs/NVAE: model.py, neural_operations.py,
distributions.py, utils.py, neural_ar_operations.py) with arch_instance 'res_mbconv', squeeze-and-excitation, the
residual normal posterior (--res_dist) and --num-nf paired autoregressive flow cells per group (default 0;
upstream's CIFAR-10 run uses 1), and times one iteration of the training loop of the authors' train.py (fp32) and
one sampling step on the CPU. Prints one JSON line. genzoo's `bench --family nvae` extracts this file from its jar,
runs it with /usr/bin/python3 and reports the ratio beside its own timing of the same network and step. Module
attribute names are upstream's, so the state_dict keys are those of the authors' checkpoints (`--list-state` prints
them). As upstream, a Conv2D without weight normalisation stores its Parameter `weight` in the attribute
`weight_normalized` too, which registers it a second time: such layers have a `<name>.weight_normalized` key in the
state_dict, an alias of `<name>.weight` (parameters() lists it once).

The network (NCHW here; "Conv2D" is a weight-normalised convolution w = exp(log_weight_norm) v / (|v| + 1e-5),
|v| the norm of each output filter, log_weight_norm initialised to log(|v| + 1e-2), no data-dependent init;
swish(x) = x sigmoid(x); BN = BatchNorm2d, eps 1e-5, momentum 0.05, single process):
  stem           Conv2D 3x3 C -> c_enc, bias, applied to 2 x - 1
  cells          Cell(s) = skip(s) + 0.1 SE(ops(s)); SE(x) = x sigmoid(W2 relu(W1 mean_HW(x))), hidden
                 max(C_out // 16, 4); skip = identity (normal cells), FactorizedReduce (down cells: swish, then
                 four 1x1 stride-2 Conv2Ds with bias on x, x[1:, 1:], x[:, 1:], x[1:, :], concatenated to 2 C),
                 bilinear x2 (align_corners=True) then a 1x1 Conv2D to C / 2 without bias (up cells)
                 normal/down pre & enc cells: two BNSwishConv (bn_act = BN then swish, conv_0 = Conv2D 3x3 with
                 bias; the first has the cell's stride)
                 normal/up dec cells: InvertedResidual ex 6 k 5; normal/up post cells: InvertedResidual ex 3 k 5
                 InvertedResidual(Cin, Cout) = [nearest x2 (up cells)], BN(Cin), ConvBNSwish(1x1 Cin -> ex Cin),
                 ConvBNSwish(5x5 depthwise), Conv2D 1x1 ex Cin -> Cout without weight norm or bias, BN(Cout);
                 ConvBNSwish = Conv2D without weight norm or bias, then BN and swish
  pre_process    pre_blocks x pre_cells cells; the last cell of each block is a down cell (channels x 2)
  enc_tower      per scale s (finest first), per group: cells_enc normal cells, then (except for the very last
                 group) an EncCombinerCell (x_enc + Conv2D 1x1(s_dec) with bias); a down cell between scales
  enc0           ELU, Conv2D 1x1 with bias, ELU
  enc_sampler    per group (decoder order): Conv2D 3x3 with bias to 2 L (mu, log sigma of q)
  dec_sampler    per group but the first: ELU, Conv2D 1x1 with bias to 2 L (mu, log sigma of p)
  dec_tower      starts from prior_ftr0 (a learned [C, h, w] tensor, uniform [0, 1) init); per scale (coarsest
                 first), per group: cells_dec normal cells (not before the first group), then a DecCombinerCell
                 (Conv2D 1x1 with bias of concat(s, z)); an up cell between scales
  post_process   post_blocks x post_cells cells; the first cell of each block is an up cell (channels / 2)
  image_conditional  ELU, Conv2D 3x3 with bias to 10 M channels (discretised mixture of M logistics) or to C
                 (Bernoulli)
Normal(mu, log sigma): mu = 5 tanh(mu / 5), sigma = exp(5 tanh(log sigma / 5)) + 1e-2 (times t in sampling).
The top group's q is Normal(enc_sampler(enc0(s))) and its prior Normal(0, 0); every other q is the residual
Normal(mu_p + mu_q, log sigma_p + log sigma_q) of the raw prior and encoder outputs. KL per group is the
analytic KL(q || p) summed over the latent's C, H, W.

Flow cells (--num-nf N > 0; upstream's with_nf): after each group's posterior sample z ~ q, N PairedCellARs
(nf_cells, N per group in decoder order) map z -> z'; the decoder, the prior's log density and the next groups see
z', and the group's KL is the one-sample log q(z) - log p(z') summed over C, H, W (log |det| = 0). Sampling never
uses the flows. PairedCellAR = cell1 (raster order) then cell2 (mirror: kernels turned by 180 degrees, reverse
raster order); CellAR(z) = z - mu(z), mu = mu.conv_0(ELU(conv.convz(z))), convz = [ARConv2d 3x3 L -> 6 L with the
centre tap's channel mask zero_diag (output block i, 6 channels, sees input channels < i), ELU, ARConv2d 5x5 depthwise
(centre kept), ELU], mu.conv_0 = ARConv2d 1x1 6 L -> L with bias (output i sees hidden blocks <= i), its
initial weight norm scaled by 0.1. ARConv2d is a masked Conv2D: taps above the centre row and left of
the centre kept, w = exp(log_weight_norm) (v m) / (|v m| + 1e-5), log_weight_norm initialised to log(|v m| + 1e-2);
the mask is not in the state_dict. So mu at (pixel p, channel c) depends on z at earlier pixels and at channels < c
of p: the Jacobian is unit lower-triangular. The ARConv2d layers join the spectral regulariser (all_conv_layers)
and the MAC count (at their full, unmasked size). cifar10 with --num-nf 1: 130,852,480 parameters (54,560 per
PairedCellAR with L = 20), 33,736,038,400 forward MACs per image.

Departures from the authors' code, all deliberate:
  * the discretised logistic mixture sends only the 8-bit value 255 to the upper tail (upstream tests
    2 x - 1 > 0.99, which also sends 254 there so its pmf does not sum to 1); the value 0 gets the lower tail;
  * nn.BatchNorm2d in one process instead of SyncBatchNorm (a thin module keeps upstream's `.bn` level in the
    keys of the InvertedResidual's two plain BN layers); swish is F.silu, x * sigmoid(x) fused (upstream: a
    custom autograd function with the same value and gradient that also saves only x);
  * MNIST's 2-pixel crop of the reconstruction term is not applied: the images are --image H W C as given;
  * --num-mix 1 still means a mixture (upstream switches to a Normal decoder);
  * the training forward computes only what the loss needs (upstream also sums log q and log p for logging);
  * the flow cells take only z (upstream passes the encoder features too, which they ignore).

The timed training step (upstream train.py's loop body, fp32, no autocast or grad scaler, constant learning rate):
forward on a batch of random 8-bit images x = k / 255 (Bernoulli: x ~ Bernoulli(k / 255), dynamic binarisation),
reconstruction loss -sum log p(x | z), KL per group, the KL balancer with kl_coeff = --kl-coeff ('square' alpha:
each of the g_i groups of decoder scale i weighs 4^i / g_i, divided by the minimum; with kl_coeff < 1 the per-group
KLs are reweighted by stop_gradient(g), g = (mean_n |KL| + 0.01) / alpha * sum, normalised to mean 1), the spectral
regulariser (spectral_norm_parallel: every Conv2D's normalised weight as an [out, in k k] matrix, stacked by shape,
4 power iterations on persistent u, v, 40 at the first call, loss = sum of u^T W v) and the BN regulariser (sum over
BN layers of max |gamma|), both times --wdn, loss = mean(recon + kl_coeff kl) + wdn (spectral + bn), backward, and
one Adamax (lr --lr, eps 1e-3, weight decay 3e-4) update. The sampling step is model.sample(batch, t=1) in eval
mode (BN running statistics) and a sample of the output distribution (Bernoulli: its mean, as upstream shows).

Usage:
  nvae_torch.py --batch B --threads T --warmup N1 --iters N2 [--image 32 32 3] [--channels-enc 128]
                [--channels-dec 128] [--pre-blocks 1] [--pre-cells 2] [--scales 1] [--groups 30] [--ada-groups]
                [--min-groups 1] [--latent 20] [--cells-enc 2] [--cells-dec 2] [--post-blocks 1] [--post-cells 2]
                [--num-mix 10] [--likelihood dmol|bernoulli] [--no-se] [--num-nf 0] [--kl-coeff 0.5] [--wdn 1e-2]
                [--lr 1e-2] [--seed 0] [--check]
  nvae_torch.py [architecture options] --list-state
The defaults are upstream's CIFAR-10 configuration without its flow cells (add --num-nf 1 for them). The last line
on stdout is one JSON object with the keys of glow_torch.py (framework, torch, params, batch, threads, train_step_s
and its list, sample_step_s and its list, forward_macs_per_image: the convolutions and SE dense layers of the
training forward pass, each k*k*in/groups*out*H_out*W_out) plus groups_per_scale, kl_coeff, likelihood and num_nf.
--check runs self-checks first (one "check ..." line each) and exits with status 1 if any fails. --list-state prints
every state_dict key with its shape, one per line, and exits. Bad arguments exit with status 2 and a one-line reason
on stderr.
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

CHANNEL_MULT = 2
BN_EPS = 1e-5
BN_MOMENTUM = 0.05
NUM_POWER_ITER = 4
ADAMAX_EPS = 1e-3
WEIGHT_DECAY = 3e-4

# The cells of arch_instance 'res_mbconv' (upstream utils.get_arch_cells).
RES_MBCONV = {
    "normal_pre": ["res_bnswish", "res_bnswish"], "down_pre": ["res_bnswish", "res_bnswish"],
    "normal_enc": ["res_bnswish", "res_bnswish"], "down_enc": ["res_bnswish", "res_bnswish"],
    "normal_dec": ["mconv_e6k5g0"], "up_dec": ["mconv_e6k5g0"],
    "normal_post": ["mconv_e3k5g0"], "up_post": ["mconv_e3k5g0"],
}


def swish(x):
    """x * sigmoid(x), PyTorch's fused form, which keeps only x for the backward pass (as upstream's Swish)."""
    return F.silu(x)


def soft_clamp5(x):
    return 5.0 * torch.tanh(x / 5.0)


def stride_of(cell_type):
    if cell_type.startswith("normal") or cell_type.startswith("combiner"):
        return 1
    if cell_type.startswith("down"):
        return 2
    if cell_type.startswith("up"):
        return -1
    raise ValueError(cell_type)


# --------------------------------------------------------------------------------------------------
# Layers (neural_operations.py).

class Conv2D(nn.Conv2d):
    """A convolution with weight normalisation: w = exp(log_weight_norm) v / (|v| + 1e-5) per output filter."""

    def __init__(self, cin, cout, kernel_size, stride=1, padding=0, dilation=1, groups=1, bias=False,
                 weight_norm=True):
        super().__init__(cin, cout, kernel_size, stride, padding, dilation, groups, bias)
        self.log_weight_norm = None
        if weight_norm:
            with torch.no_grad():
                init = self.weight.flatten(1).norm(dim=1).view(-1, 1, 1, 1)
            self.log_weight_norm = nn.Parameter(torch.log(init + 1e-2))
        self.weight_normalized = self.normalized_weight()

    def normalized_weight(self):
        if self.log_weight_norm is None:
            return self.weight
        wn = torch.sqrt(torch.sum(self.weight * self.weight, dim=[1, 2, 3])).view(-1, 1, 1, 1)
        return torch.exp(self.log_weight_norm) * self.weight / (wn + 1e-5)

    def forward(self, x):
        # kept for the spectral regulariser, which reads the weights of this forward pass
        self.weight_normalized = self.normalized_weight()
        return F.conv2d(x, self.weight_normalized, self.bias, self.stride, self.padding, self.dilation, self.groups)


class BatchNormSwish(nn.BatchNorm2d):
    """BN then swish (upstream's SyncBatchNormSwish, one process); its parameters sit directly in the module."""

    def __init__(self, channels):
        super().__init__(channels, eps=BN_EPS, momentum=BN_MOMENTUM)

    def forward(self, x):
        return swish(super().forward(x))


class SyncBatchNorm(nn.Module):
    """A plain BN behind the `.bn` attribute of upstream's SyncBatchNorm wrapper (keys `<name>.bn.weight`...)."""

    def __init__(self, channels):
        super().__init__()
        self.bn = nn.BatchNorm2d(channels, eps=BN_EPS, momentum=BN_MOMENTUM)

    def forward(self, x):
        return self.bn(x)


class BNSwishConv(nn.Module):
    def __init__(self, cin, cout, kernel_size, stride=1, padding=0, dilation=1):
        super().__init__()
        self.upsample = stride == -1
        self.bn_act = BatchNormSwish(cin)
        self.conv_0 = Conv2D(cin, cout, kernel_size, stride=abs(stride), padding=padding, bias=True,
                             dilation=dilation)

    def forward(self, x):
        out = self.bn_act(x)
        if self.upsample:
            out = F.interpolate(out, scale_factor=2, mode="nearest")
        return self.conv_0(out)


class FactorizedReduce(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        q = cout // 4
        self.conv_1 = Conv2D(cin, q, 1, stride=2, padding=0, bias=True)
        self.conv_2 = Conv2D(cin, q, 1, stride=2, padding=0, bias=True)
        self.conv_3 = Conv2D(cin, q, 1, stride=2, padding=0, bias=True)
        self.conv_4 = Conv2D(cin, cout - 3 * q, 1, stride=2, padding=0, bias=True)

    def forward(self, x):
        out = swish(x)
        return torch.cat([self.conv_1(out), self.conv_2(out[:, :, 1:, 1:]), self.conv_3(out[:, :, :, 1:]),
                          self.conv_4(out[:, :, 1:, :])], dim=1)


class UpSample(nn.Module):
    def forward(self, x):
        return F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=True)


class Identity(nn.Module):
    def forward(self, x):
        return x


def skip_connection(c, stride):
    if stride == 1:
        return Identity()
    if stride == 2:
        return FactorizedReduce(c, CHANNEL_MULT * c)
    return nn.Sequential(UpSample(), Conv2D(c, c // CHANNEL_MULT, kernel_size=1))


class ConvBNSwish(nn.Module):
    def __init__(self, cin, cout, k=3, stride=1, groups=1, dilation=1):
        super().__init__()
        padding = dilation * (k - 1) // 2
        self.conv = nn.Sequential(
            Conv2D(cin, cout, k, stride, padding, groups=groups, bias=False, dilation=dilation, weight_norm=False),
            BatchNormSwish(cout))

    def forward(self, x):
        return self.conv(x)


class SE(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        hidden = max(cout // 16, 4)
        self.se = nn.Sequential(nn.Linear(cin, hidden), nn.ReLU(inplace=True), nn.Linear(hidden, cout), nn.Sigmoid())

    def forward(self, x):
        return x * self.se(torch.mean(x, dim=[2, 3])).view(x.shape[0], -1, 1, 1)


class InvertedResidual(nn.Module):
    def __init__(self, cin, cout, stride, ex, k):
        super().__init__()
        hidden = int(round(cin * ex))
        layers = [nn.UpsamplingNearest2d(scale_factor=2)] if stride == -1 else []
        layers += [SyncBatchNorm(cin),
                   ConvBNSwish(cin, hidden, k=1),
                   ConvBNSwish(hidden, hidden, stride=abs(stride), groups=hidden, k=k),
                   Conv2D(hidden, cout, 1, 1, 0, bias=False, weight_norm=False),
                   SyncBatchNorm(cout)]
        self.conv = nn.Sequential(*layers)

    def forward(self, x):
        return self.conv(x)


OPS = {
    "res_bnswish": lambda cin, cout, stride: BNSwishConv(cin, cout, 3, stride, 1),
    "mconv_e6k5g0": lambda cin, cout, stride: InvertedResidual(cin, cout, stride, ex=6, k=5),
    "mconv_e3k5g0": lambda cin, cout, stride: InvertedResidual(cin, cout, stride, ex=3, k=5),
}


# --------------------------------------------------------------------------------------------------
# Inverse autoregressive flow cells (neural_ar_operations.py; model.py CellAR, PairedCellAR).

def ar_channel_mask(cin, groups, cout, zero_diag):
    """The [cout, cin / groups] mask of a kernel's centre tap. A full convolution between cin and cout channels
    (one divides the other, r the ratio) splits the larger side into blocks of r: with cout >= cin, output block i
    sees input channels < i (<= i without zero_diag); with cout < cin, output channel i sees input blocks <= i (< i
    with zero_diag). A depthwise convolution (groups = cin) keeps its centre unless zero_diag."""
    if cin % cout and cout % cin:
        raise ValueError(f"ar_channel_mask: {cin} and {cout} channels, neither divides the other")
    if groups == cin:
        return torch.zeros(cout, 1) if zero_diag else torch.ones(cout, 1)
    if groups != 1:
        raise ValueError(f"ar_channel_mask: groups must be 1 or {cin}, got {groups}")
    o = torch.arange(cout).view(-1, 1)
    i = torch.arange(cin).view(1, -1)
    if cout >= cin:
        block = o // (cout // cin)              # the input channel each output block belongs to
        keep = i < block if zero_diag else i <= block
    else:
        block = i // (cin // cout)              # the output channel each input block belongs to
        keep = block < o if zero_diag else block <= o
    return keep.float()


def ar_conv_mask(k, cin, groups, cout, zero_diag, mirror):
    """[cout, cin / groups, k, k]: the taps above the centre row and left of the centre (raster order) are kept, the
    centre by ar_channel_mask, the rest dropped; mirror turns the kernel by 180 degrees (reverse raster order)."""
    c = (k - 1) // 2
    mask = torch.zeros(cout, cin // groups, k, k)
    mask[:, :, :c, :] = 1.0
    mask[:, :, c, :c] = 1.0
    mask[:, :, c, c] = ar_channel_mask(cin, groups, cout, zero_diag)
    return torch.flip(mask, dims=[2, 3]) if mirror else mask


class ARConv2d(nn.Conv2d):
    """A masked, weight-normalised convolution: w = exp(log_weight_norm) (v m) / (|v m| + 1e-5), m the mask,
    log_weight_norm initialised to log(|v m| + 1e-2). The mask is a non-persistent buffer (not in the state_dict, as
    upstream keeps it a plain tensor); weight_normalized is a plain attribute (no alias key)."""

    def __init__(self, cin, cout, kernel_size, stride=1, padding=0, dilation=1, groups=1, bias=False,
                 zero_diag=False, mirror=False):
        super().__init__(cin, cout, kernel_size, stride, padding, dilation, groups, bias)
        if kernel_size % 2 != 1:
            raise ValueError(f"ARConv2d: odd kernel size needed, got {kernel_size}")
        self.register_buffer("mask", ar_conv_mask(kernel_size, cin, groups, cout, zero_diag, mirror),
                             persistent=False)
        with torch.no_grad():
            init = (self.weight * self.mask).flatten(1).norm(dim=1).view(-1, 1, 1, 1)
            self.log_weight_norm = nn.Parameter(torch.log(init + 1e-2))
            self.weight_normalized = self.normalized_weight()

    def normalized_weight(self):
        w = self.weight * self.mask
        wn = torch.sqrt(torch.sum(w * w, dim=[1, 2, 3])).view(-1, 1, 1, 1)
        return torch.exp(self.log_weight_norm) * w / (wn + 1e-5)

    def forward(self, x):
        self.weight_normalized = self.normalized_weight()
        return F.conv2d(x, self.weight_normalized, self.bias, self.stride, self.padding, self.dilation, self.groups)


class ELUConv(nn.Module):
    """ELU then a masked 1x1-or-k ARConv2d with bias whose initial log_weight_norm is shifted by log(init_coeff)."""

    def __init__(self, cin, cout, kernel_size, padding=0, zero_diag=True, init_coeff=1.0, mirror=False):
        super().__init__()
        self.conv_0 = ARConv2d(cin, cout, kernel_size, padding=padding, bias=True, zero_diag=zero_diag,
                               mirror=mirror)
        with torch.no_grad():
            self.conv_0.log_weight_norm.add_(math.log(init_coeff))

    def forward(self, x):
        return self.conv_0(F.elu(x))


class ARInvertedResidual(nn.Module):
    """convz = [ARConv2d 3x3 num_z -> 6 num_z (zero_diag), ELU, ARConv2d 5x5 depthwise, ELU], no bias."""

    def __init__(self, num_z, ex=6, k=5, mirror=False):
        super().__init__()
        self.hidden_dim = int(round(num_z * ex))
        self.convz = nn.Sequential(
            ARConv2d(num_z, self.hidden_dim, 3, padding=1, zero_diag=True, mirror=mirror), nn.ELU(inplace=True),
            ARConv2d(self.hidden_dim, self.hidden_dim, k, padding=(k - 1) // 2, groups=self.hidden_dim,
                     zero_diag=False, mirror=mirror), nn.ELU(inplace=True))

    def forward(self, z):
        return self.convz(z)


class CellAR(nn.Module):
    """One affine-free autoregressive flow step z' = z - mu(z): mu_(pixel p, channel c) depends only on z at pixels
    before p (raster order, reversed when mirrored) and at channels < c of p, so dz'/dz is unit lower-triangular in
    that order and log |det| = 0 (upstream's use_mix_log_cdf = False branch)."""

    def __init__(self, num_z, num_c, mirror):
        super().__init__()
        if num_c % num_z:
            raise ValueError(f"CellAR: {num_c} feature channels are not a multiple of {num_z}")
        self.cell_type = "ar_nn"
        self.conv = ARInvertedResidual(num_z, ex=6, mirror=mirror)
        self.mu = ELUConv(self.conv.hidden_dim, num_z, 1, padding=0, zero_diag=False, init_coeff=0.1, mirror=mirror)

    def forward(self, z):
        new_z = z - self.mu(self.conv(z))
        return new_z, torch.zeros_like(new_z)


class PairedCellAR(nn.Module):
    """cell1 (raster order) then cell2 (mirrored); the log-determinants add (both 0)."""

    def __init__(self, num_z, num_c):
        super().__init__()
        self.cell1 = CellAR(num_z, num_c, mirror=False)
        self.cell2 = CellAR(num_z, num_c, mirror=True)

    def forward(self, z):
        z, log_det1 = self.cell1(z)
        z, log_det2 = self.cell2(z)
        return z, log_det1 + log_det2


class Cell(nn.Module):
    def __init__(self, cin, cout, cell_type, arch, use_se):
        super().__init__()
        self.cell_type = cell_type
        stride = stride_of(cell_type)
        self.skip = skip_connection(cin, stride)
        self.use_se = use_se
        self._ops = nn.ModuleList([OPS[p](cin if i == 0 else cout, cout, stride if i == 0 else 1)
                                   for i, p in enumerate(arch)])
        if use_se:
            self.se = SE(cout, cout)

    def forward(self, s):
        skip = self.skip(s)
        for op in self._ops:
            s = op(s)
        if self.use_se:
            s = self.se(s)
        return skip + 0.1 * s


class EncCombinerCell(nn.Module):
    def __init__(self, cin1, cin2, cout, cell_type):
        super().__init__()
        self.cell_type = cell_type
        self.conv = Conv2D(cin2, cout, kernel_size=1, stride=1, padding=0, bias=True)

    def forward(self, x1, x2):
        return x1 + self.conv(x2)


class DecCombinerCell(nn.Module):
    def __init__(self, cin1, cin2, cout, cell_type):
        super().__init__()
        self.cell_type = cell_type
        self.conv = Conv2D(cin1 + cin2, cout, kernel_size=1, stride=1, padding=0, bias=True)

    def forward(self, x1, x2):
        return self.conv(torch.cat([x1, x2], dim=1))


# --------------------------------------------------------------------------------------------------
# Distributions (distributions.py).

class Normal:
    def __init__(self, mu, log_sigma, temp=1.0):
        self.mu = soft_clamp5(mu)
        self.sigma = torch.exp(soft_clamp5(log_sigma)) + 1e-2
        if temp != 1.0:
            self.sigma = self.sigma * temp

    def sample(self):
        return self.mu + self.sigma * torch.randn_like(self.mu)

    def log_p(self, z):
        u = (z - self.mu) / self.sigma
        return -0.5 * u * u - 0.5 * math.log(2 * math.pi) - torch.log(self.sigma)

    def kl(self, p):
        term1 = (self.mu - p.mu) / p.sigma
        term2 = self.sigma / p.sigma
        return 0.5 * (term1 * term1 + term2 * term2) - 0.5 - torch.log(term2)


class DiscMixLogistic:
    """PixelCNN++'s discretised mixture of logistics over 8-bit RGB, upstream's parameter layout."""

    def __init__(self, param, num_mix):
        b, _, h, w = param.shape
        self.num_mix = num_mix
        self.logit_probs = param[:, :num_mix]                                            # B, M, H, W
        l = param[:, num_mix:].reshape(b, 3, 3 * num_mix, h, w)                         # B, 3, 3M, H, W
        self.means = l[:, :, :num_mix]                                                   # B, 3, M, H, W
        self.log_scales = torch.clamp(l[:, :, num_mix:2 * num_mix], min=-7.0)
        self.coeffs = torch.tanh(l[:, :, 2 * num_mix:3 * num_mix])

    def channel_log_probs(self, x):
        """log P_m(x_c | x_<c) [B, 3, M, H, W] for x in [0, 1] on the 8-bit grid (x = k / 255)."""
        k = torch.round(x * 255.0)
        y = (2.0 * x - 1.0).unsqueeze(2)                                                 # B, 3, 1, H, W
        mean0 = self.means[:, 0]
        mean1 = self.means[:, 1] + self.coeffs[:, 0] * y[:, 0]
        mean2 = self.means[:, 2] + self.coeffs[:, 1] * y[:, 0] + self.coeffs[:, 2] * y[:, 1]
        centered = y - torch.stack([mean0, mean1, mean2], dim=1)
        inv_stdv = torch.exp(-self.log_scales)
        plus_in = inv_stdv * (centered + 1.0 / 255.0)
        min_in = inv_stdv * (centered - 1.0 / 255.0)
        cdf_delta = torch.sigmoid(plus_in) - torch.sigmoid(min_in)
        log_cdf_plus = plus_in - F.softplus(plus_in)
        log_one_minus_cdf_min = -F.softplus(min_in)
        mid_in = inv_stdv * centered
        log_pdf_mid = mid_in - self.log_scales - 2.0 * F.softplus(mid_in)
        log_mid = torch.where(cdf_delta > 1e-5, torch.log(torch.clamp(cdf_delta, min=1e-10)),
                              log_pdf_mid - math.log(127.5))
        k = k.unsqueeze(2)
        return torch.where(k == 0, log_cdf_plus, torch.where(k == 255, log_one_minus_cdf_min, log_mid))

    def log_prob(self, x):
        """log p(x) per pixel [B, H, W]."""
        lp = torch.sum(self.channel_log_probs(x), dim=1) + F.log_softmax(self.logit_probs, dim=1)
        return torch.logsumexp(lp, dim=1)

    def sample(self, t=1.0):
        u = torch.empty_like(self.logit_probs).uniform_(1e-5, 1.0 - 1e-5)
        gumbel = -torch.log(-torch.log(u))
        sel = F.one_hot(torch.argmax(self.logit_probs / t + gumbel, dim=1), self.num_mix)  # B, H, W, M
        sel = sel.permute(0, 3, 1, 2).unsqueeze(1).to(self.means.dtype)                    # B, 1, M, H, W
        means = torch.sum(self.means * sel, dim=2)
        log_scales = torch.sum(self.log_scales * sel, dim=2)
        coeffs = torch.sum(self.coeffs * sel, dim=2)
        u = torch.empty_like(means).uniform_(1e-5, 1.0 - 1e-5)
        x = means + torch.exp(log_scales) * t * (torch.log(u) - torch.log(1.0 - u))
        x0 = torch.clamp(x[:, 0], -1, 1)
        x1 = torch.clamp(x[:, 1] + coeffs[:, 0] * x0, -1, 1)
        x2 = torch.clamp(x[:, 2] + coeffs[:, 1] * x0 + coeffs[:, 2] * x1, -1, 1)
        return torch.stack([x0, x1, x2], dim=1) / 2.0 + 0.5


class BernoulliLogits:
    def __init__(self, logits):
        self.logits = logits

    def log_prob(self, x):
        return x * self.logits - F.softplus(self.logits)

    def sample(self, t=1.0):
        return torch.sigmoid(self.logits)  # upstream shows the mean


# --------------------------------------------------------------------------------------------------
# The AutoEncoder (model.py).

def groups_per_scale(num_scales, num_groups, ada, min_groups):
    g, n = [], num_groups
    for _ in range(num_scales):
        g.append(n)
        if ada:
            n = max(min_groups, n // 2)
    return g


def kl_balancer_coeff(num_scales, gps):
    """'square': each group of decoder scale i weighs 4^i / (groups of that scale), normalised to min 1."""
    coeff = torch.cat([(2 ** i) ** 2 / gps[num_scales - i - 1] * torch.ones(gps[num_scales - i - 1])
                       for i in range(num_scales)])
    return coeff / torch.min(coeff)


def kl_balancer(kl_all, kl_coeff, alpha):
    kl_all = torch.stack(kl_all, dim=1)                                                  # N, G
    if kl_coeff < 1.0:
        g = torch.mean(torch.abs(kl_all), dim=0, keepdim=True) + 0.01
        g = g / alpha.unsqueeze(0) * torch.sum(g)
        g = g / torch.mean(g, dim=1, keepdim=True)
        kl = torch.sum(kl_all * g.detach(), dim=1)
    else:
        kl = torch.sum(kl_all, dim=1)
    return kl_coeff * kl


class AutoEncoder(nn.Module):
    def __init__(self, a):
        super().__init__()
        h, w, c = a.image
        self.channels, self.likelihood, self.num_mix = c, a.likelihood, a.num_mix
        self.use_se = not a.no_se
        self.num_latent_scales, self.num_latent_per_group = a.scales, a.latent
        self.groups_per_scale = groups_per_scale(a.scales, a.groups, a.ada_groups, a.min_groups)
        self.num_channels_enc, self.num_channels_dec = a.channels_enc, a.channels_dec
        self.num_preprocess_blocks, self.num_preprocess_cells = a.pre_blocks, a.pre_cells
        self.num_postprocess_blocks, self.num_postprocess_cells = a.post_blocks, a.post_cells
        self.num_cell_per_cond_enc, self.num_cell_per_cond_dec = a.cells_enc, a.cells_dec
        self.num_flows = getattr(a, "num_nf", 0)
        self.with_nf = self.num_flows > 0

        c_scaling = CHANNEL_MULT ** (a.pre_blocks + a.scales - 1)
        spatial = 2 ** (a.pre_blocks + a.scales - 1)
        self.prior_ftr0 = nn.Parameter(torch.rand(int(c_scaling * a.channels_dec), h // spatial, w // spatial))
        self.z0_size = [a.latent, h // spatial, w // spatial]

        self.stem = Conv2D(c, a.channels_enc, 3, padding=1, bias=True)
        self.pre_process, mult = self.init_pre_process(1)
        self.enc_tower, mult = self.init_encoder_tower(mult)
        self.enc0 = nn.Sequential(nn.ELU(), Conv2D(int(a.channels_enc * mult), int(a.channels_enc * mult), 1,
                                                   bias=True), nn.ELU())
        self.enc_sampler, self.dec_sampler, self.nf_cells = self.init_normal_sampler(mult)
        self.dec_tower, mult = self.init_decoder_tower(mult)
        self.post_process, mult = self.init_post_process(mult)
        c_out = 10 * a.num_mix if a.likelihood == "dmol" else c
        self.image_conditional = nn.Sequential(nn.ELU(), Conv2D(int(a.channels_dec * mult), c_out, 3, padding=1,
                                                                bias=True))

        self.all_conv_layers = [m for m in self.modules() if isinstance(m, (Conv2D, ARConv2d))]
        self.all_bn_layers = [m for m in self.modules() if isinstance(m, nn.BatchNorm2d)]
        self.sr_u, self.sr_v = {}, {}

    def init_pre_process(self, mult):
        cells = nn.ModuleList()
        for _ in range(self.num_preprocess_blocks):
            for ci in range(self.num_preprocess_cells):
                if ci == self.num_preprocess_cells - 1:
                    n = int(self.num_channels_enc * mult)
                    cells.append(Cell(n, CHANNEL_MULT * n, "down_pre", RES_MBCONV["down_pre"], self.use_se))
                    mult *= CHANNEL_MULT
                else:
                    n = int(self.num_channels_enc * mult)
                    cells.append(Cell(n, n, "normal_pre", RES_MBCONV["normal_pre"], self.use_se))
        return cells, mult

    def init_encoder_tower(self, mult):
        cells = nn.ModuleList()
        for s in range(self.num_latent_scales):
            for g in range(self.groups_per_scale[s]):
                n = int(self.num_channels_enc * mult)
                for _ in range(self.num_cell_per_cond_enc):
                    cells.append(Cell(n, n, "normal_enc", RES_MBCONV["normal_enc"], self.use_se))
                if not (s == self.num_latent_scales - 1 and g == self.groups_per_scale[s] - 1):
                    cells.append(EncCombinerCell(n, int(self.num_channels_dec * mult), n, "combiner_enc"))
            if s < self.num_latent_scales - 1:
                n = int(self.num_channels_enc * mult)
                cells.append(Cell(n, CHANNEL_MULT * n, "down_enc", RES_MBCONV["down_enc"], self.use_se))
                mult *= CHANNEL_MULT
        return cells, mult

    def init_normal_sampler(self, mult):
        enc_sampler, dec_sampler, nf_cells = nn.ModuleList(), nn.ModuleList(), nn.ModuleList()
        for s in range(self.num_latent_scales):
            for g in range(self.groups_per_scale[self.num_latent_scales - s - 1]):
                enc_sampler.append(Conv2D(int(self.num_channels_enc * mult), 2 * self.num_latent_per_group, 3,
                                          padding=1, bias=True))
                for _ in range(self.num_flows):
                    nf_cells.append(PairedCellAR(self.num_latent_per_group, 8 * self.num_latent_per_group))
                if not (s == 0 and g == 0):
                    dec_sampler.append(nn.Sequential(nn.ELU(), Conv2D(int(self.num_channels_dec * mult),
                                                                      2 * self.num_latent_per_group, 1, bias=True)))
            mult /= CHANNEL_MULT
        return enc_sampler, dec_sampler, nf_cells

    def init_decoder_tower(self, mult):
        cells = nn.ModuleList()
        for s in range(self.num_latent_scales):
            for g in range(self.groups_per_scale[self.num_latent_scales - s - 1]):
                n = int(self.num_channels_dec * mult)
                if not (s == 0 and g == 0):
                    for _ in range(self.num_cell_per_cond_dec):
                        cells.append(Cell(n, n, "normal_dec", RES_MBCONV["normal_dec"], self.use_se))
                cells.append(DecCombinerCell(n, self.num_latent_per_group, n, "combiner_dec"))
            if s < self.num_latent_scales - 1:
                n = int(self.num_channels_dec * mult)
                cells.append(Cell(n, n // CHANNEL_MULT, "up_dec", RES_MBCONV["up_dec"], self.use_se))
                mult /= CHANNEL_MULT
        return cells, mult

    def init_post_process(self, mult):
        cells = nn.ModuleList()
        for _ in range(self.num_postprocess_blocks):
            for ci in range(self.num_postprocess_cells):
                n = int(self.num_channels_dec * mult)
                if ci == 0:
                    cells.append(Cell(n, n // CHANNEL_MULT, "up_post", RES_MBCONV["up_post"], self.use_se))
                    mult /= CHANNEL_MULT
                else:
                    cells.append(Cell(n, n, "normal_post", RES_MBCONV["normal_post"], self.use_se))
        return cells, mult

    def forward(self, x):
        """Returns the output distribution's parameters and the KL of each group, [N] each, in decoder order."""
        s = self.stem(2 * x - 1.0)
        for cell in self.pre_process:
            s = cell(s)
        combiners, combiner_s = [], []
        for cell in self.enc_tower:
            if cell.cell_type == "combiner_enc":
                combiners.append(cell)
                combiner_s.append(s)
            else:
                s = cell(s)
        combiners.reverse()
        combiner_s.reverse()

        ftr = self.enc0(s)
        mu_q, log_sig_q = torch.chunk(self.enc_sampler[0](ftr), 2, dim=1)
        q = Normal(mu_q, log_sig_q)
        z, log_q = self.posterior_sample(q, 0)
        p = Normal(torch.zeros_like(z), torch.zeros_like(z))
        kl_all = [self.group_kl(q, p, z, log_q)]

        idx_dec = 0
        s = self.prior_ftr0.unsqueeze(0).expand(z.shape[0], -1, -1, -1)
        for cell in self.dec_tower:
            if cell.cell_type == "combiner_dec":
                if idx_dec > 0:
                    mu_p, log_sig_p = torch.chunk(self.dec_sampler[idx_dec - 1](s), 2, dim=1)
                    ftr = combiners[idx_dec - 1](combiner_s[idx_dec - 1], s)
                    mu_q, log_sig_q = torch.chunk(self.enc_sampler[idx_dec](ftr), 2, dim=1)
                    q = Normal(mu_p + mu_q, log_sig_p + log_sig_q)
                    z, log_q = self.posterior_sample(q, idx_dec)
                    kl_all.append(self.group_kl(q, Normal(mu_p, log_sig_p), z, log_q))
                s = cell(s, z)
                idx_dec += 1
            else:
                s = cell(s)
        for cell in self.post_process:
            s = cell(s)
        return self.image_conditional(s), kl_all

    def posterior_sample(self, q, group):
        """z ~ q pushed through the group's num_nf flow cells, and log q(z) elementwise (None without flows)."""
        z = q.sample()
        if not self.with_nf:
            return z, None
        log_q = q.log_p(z)
        for cell in self.nf_cells[group * self.num_flows:(group + 1) * self.num_flows]:
            z, log_det = cell(z)
            log_q = log_q - log_det
        return z, log_q

    def group_kl(self, q, p, z, log_q):
        """[N]: the analytic KL(q || p) summed over C, H, W; with flows the one-sample log q(z) - log p(z)."""
        kl = log_q - p.log_p(z) if self.with_nf else q.kl(p)
        return torch.sum(kl, dim=[1, 2, 3])

    def sample(self, num_samples, t):
        z = Normal(torch.zeros([num_samples] + self.z0_size), torch.zeros([num_samples] + self.z0_size), t).sample()
        idx_dec = 0
        s = self.prior_ftr0.unsqueeze(0).expand(num_samples, -1, -1, -1)
        for cell in self.dec_tower:
            if cell.cell_type == "combiner_dec":
                if idx_dec > 0:
                    mu, log_sigma = torch.chunk(self.dec_sampler[idx_dec - 1](s), 2, dim=1)
                    z = Normal(mu, log_sigma, t).sample()
                s = cell(s, z)
                idx_dec += 1
            else:
                s = cell(s)
        for cell in self.post_process:
            s = cell(s)
        return self.image_conditional(s)

    def decoder_output(self, logits):
        if self.likelihood == "dmol":
            return DiscMixLogistic(logits, self.num_mix)
        return BernoulliLogits(logits)

    def reconstruction_loss(self, logits, x):
        """-log p(x | z) per example [N]."""
        lp = self.decoder_output(logits).log_prob(x)
        return -torch.sum(lp, dim=list(range(1, lp.dim())))

    def spectral_norm_parallel(self):
        """Sum of the largest singular values of every Conv2D's normalised weight, grouped by shape."""
        weights = {}
        for layer in self.all_conv_layers:
            wm = layer.weight_normalized.view(layer.weight_normalized.shape[0], -1)
            weights.setdefault(wm.shape, []).append(wm)
        loss = 0
        for shape, ws in weights.items():
            w = torch.stack(ws, dim=0)
            with torch.no_grad():
                num_iter = NUM_POWER_ITER
                if shape not in self.sr_u:
                    num_w, row, col = w.shape
                    self.sr_u[shape] = F.normalize(torch.randn(num_w, row, dtype=w.dtype), dim=1, eps=1e-3)
                    self.sr_v[shape] = F.normalize(torch.randn(num_w, col, dtype=w.dtype), dim=1, eps=1e-3)
                    num_iter = 10 * NUM_POWER_ITER
                for _ in range(num_iter):
                    self.sr_v[shape] = F.normalize(torch.matmul(self.sr_u[shape].unsqueeze(1), w).squeeze(1),
                                                   dim=1, eps=1e-3)
                    self.sr_u[shape] = F.normalize(torch.matmul(w, self.sr_v[shape].unsqueeze(2)).squeeze(2),
                                                   dim=1, eps=1e-3)
            sigma = torch.matmul(self.sr_u[shape].unsqueeze(1), torch.matmul(w, self.sr_v[shape].unsqueeze(2)))
            loss = loss + torch.sum(sigma)
        return loss

    def batchnorm_loss(self):
        loss = 0
        for layer in self.all_bn_layers:
            loss = loss + torch.max(torch.abs(layer.weight))
        return loss


def param_count(model):
    return sum(p.numel() for p in model.parameters())


def forward_macs(model, x):
    """Multiply-accumulates per image of the convolutions and SE dense layers of one forward pass (eval mode)."""
    total = [0]

    def conv_hook(m, inp, out):
        total[0] += m.kernel_size[0] * m.kernel_size[1] * (m.in_channels // m.groups) * m.out_channels \
            * out.shape[2] * out.shape[3] * out.shape[0]

    def dense_hook(m, inp, out):
        total[0] += m.in_features * m.out_features * out.shape[0]

    hooks = [m.register_forward_hook(conv_hook) for m in model.modules() if isinstance(m, nn.Conv2d)]
    hooks += [m.register_forward_hook(dense_hook) for m in model.modules() if isinstance(m, nn.Linear)]
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            model(x)
    finally:
        for hk in hooks:
            hk.remove()
        model.train(was_training)
    return total[0] // x.shape[0]


def random_batch(args, n):
    h, w, c = args.image
    x = torch.randint(0, 256, (n, c, h, w)).float() / 255.0
    return torch.bernoulli(x) if args.likelihood == "bernoulli" else x


def train_step(model, opt, x, alpha, kl_coeff, wdn):
    opt.zero_grad(set_to_none=True)
    logits, kl_all = model(x)
    recon = model.reconstruction_loss(logits, x)
    loss = torch.mean(recon + kl_balancer(kl_all, kl_coeff, alpha))
    loss = loss + model.spectral_norm_parallel() * wdn + model.batchnorm_loss() * wdn
    loss.backward()
    opt.step()
    return loss


def sample_step(model, n):
    with torch.no_grad():
        return model.decoder_output(model.sample(n, 1.0)).sample(1.0)


# --------------------------------------------------------------------------------------------------
# Self-checks.

def tiny_args(**over):
    a = argparse.Namespace(image=[8, 8, 3], channels_enc=8, channels_dec=8, pre_blocks=1, pre_cells=1, scales=2,
                           groups=2, ada_groups=True, min_groups=1, latent=4, cells_enc=1, cells_dec=1,
                           post_blocks=1, post_cells=1, num_mix=3, likelihood="dmol", no_se=False, num_nf=0)
    for k, v in over.items():
        setattr(a, k, v)
    return a


def run_checks(args):
    failed = 0

    def report(ok, what):
        nonlocal failed
        print(("check ok   " if ok else "check FAIL ") + what, flush=True)
        failed += 0 if ok else 1

    torch.manual_seed(args.seed)
    # 1. The mixture's pmf over the 256 values of each channel sums to 1 (the k = 255 edge fix): one pixel per value
    # k, every channel at k, coefficients 0 so that the channels are independent. The components are sharp (scale
    # about 0.1) and component 0 sits at the upper edge, where upstream's "> 0.99" test counts the tail above
    # k = 253.5 twice. Bins with cdf_delta <= 1e-5 use PixelCNN++'s density approximation, hence the 1e-6 tolerance.
    m = 4
    l = torch.randn(1, 3, 3 * m, 1, 1, dtype=torch.float64)
    l[:, :, 0] = 0.995                       # component 0's means, on [-1, 1]
    l[:, :, m:2 * m] = l[:, :, m:2 * m] * 0.3 - 2.5
    l[:, :, 2 * m:] = 0.0
    param = torch.cat([torch.randn(1, m, 1, 1, dtype=torch.float64), l.reshape(1, 9 * m, 1, 1)], dim=1)
    param = param.expand(-1, -1, -1, 256).contiguous()
    x = (torch.arange(256, dtype=torch.float64) / 255.0).view(1, 1, 1, 256).expand(1, 3, 1, 256)
    dist = DiscMixLogistic(param, m)
    sums = dist.channel_log_probs(x).exp().sum(dim=-1)  # [1, 3, M, 1]
    err = float((sums - 1).abs().max())
    report(err < 1e-6, f"each logistic component's pmf over k = 0..255 sums to 1 (max error {err:.2e})")
    marg = torch.logsumexp(dist.channel_log_probs(x)[:, 0] + F.log_softmax(param[:, :m], dim=1), dim=1).exp().sum()
    report(abs(float(marg) - 1) < 1e-6, f"the mixture's channel-0 marginal sums to 1 ({float(marg):.9f})")

    # 2. KL(q || p) of Normal against its closed form with the soft clamp and the +1e-2.
    a, b, c_, d = torch.randn(4, 50, dtype=torch.float64) * 3
    q, p = Normal(a, b), Normal(c_, d)
    mq, sq = 5 * torch.tanh(a / 5), torch.exp(5 * torch.tanh(b / 5)) + 1e-2
    mp, sp = 5 * torch.tanh(c_ / 5), torch.exp(5 * torch.tanh(d / 5)) + 1e-2
    ref = torch.log(sp / sq) + (sq ** 2 + (mq - mp) ** 2) / (2 * sp ** 2) - 0.5
    err = float(((q.kl(p) - ref).abs() / ref.abs().clamp(min=1.0)).max())  # relative: the KL reaches ~1e8 here
    report(err < 1e-12, f"Normal.kl equals log(sp/sq) + (sq^2 + dmu^2) / (2 sp^2) - 1/2 (max relative error "
           f"{err:.2e})")

    # 3. A CellAR's Jacobian on a tiny map is unit lower-triangular once its entries are ordered by pixel (raster
    # order; reversed for the mirrored cell), then by channel, so log |det| = 0 as the cell reports. The flow's mu must
    # also really depend on earlier entries (a non-zero strictly lower part), else the check is empty.
    nz, hh, ww = 3, 3, 4
    for mirror in (False, True):
        cell = CellAR(nz, 8 * nz, mirror).double()
        with torch.no_grad():                    # move mu's weights off their small initial scale
            cell.mu.conv_0.log_weight_norm.zero_()
        z0 = torch.randn(1, nz, hh, ww, dtype=torch.float64)
        jac = torch.autograd.functional.jacobian(lambda z: cell(z)[0], z0).reshape(nz * hh * ww, nz * hh * ww)
        pix = torch.arange(hh * ww).flip(0) if mirror else torch.arange(hh * ww)
        order = (torch.arange(nz).view(1, -1) * hh * ww + pix.view(-1, 1)).reshape(-1)  # NCHW index, pixel-major
        jo = jac[order][:, order]
        upper = float(torch.triu(jo, 1).abs().max())
        diag = float((torch.diagonal(jo) - 1).abs().max())
        lower = float(torch.tril(jo, -1).abs().max())
        _, logabsdet = torch.linalg.slogdet(jac)
        _, log_det = cell(z0)
        report(upper == 0.0 and diag == 0.0 and lower > 1e-3 and abs(float(logabsdet)) < 1e-10
               and float(log_det.abs().max()) == 0.0,
               f"CellAR (mirror={mirror}) Jacobian is unit lower-triangular (max above {upper:.1e}, diagonal - 1 "
               f"{diag:.1e}, max below {lower:.2e}), log|det| {float(logabsdet):.1e} == reported 0")

    # 4. The tiny network, without and with flows: shapes, the spectral estimate after 40 power iterations, a finite
    # training step that reaches every parameter, sampling.
    for nf in (0, 1):
        tiny_network_checks(tiny_args(num_nf=nf), report)
    return failed


def tiny_network_checks(ta, report):
    tag = f"[num_nf {ta.num_nf}] "
    model = AutoEncoder(ta).double()
    xb = random_batch(ta, 4).double()
    logits, kl_all = model(xb)
    n_ar = sum(isinstance(l, ARConv2d) for l in model.all_conv_layers)
    report(logits.shape == (4, 30, 8, 8) and len(kl_all) == 3 and model.groups_per_scale == [2, 1]
           and n_ar == 3 * 2 * 3 * ta.num_nf and all(torch.isfinite(k).all() for k in kl_all),
           f"{tag}tiny network: logits {tuple(logits.shape)}, {len(kl_all)} finite KL groups, groups per scale "
           f"{model.groups_per_scale}, {n_ar} ARConv2d layers in the spectral regulariser")
    # u^T W v <= sigma(W) for unit u, v; the persistent power iteration (40 steps, then 4 per call) converges to it
    exact = sum(float(torch.linalg.matrix_norm(l.weight_normalized.flatten(1), 2)) for l in model.all_conv_layers)
    first = float(model.spectral_norm_parallel())
    for _ in range(100):
        sr = float(model.spectral_norm_parallel())
    report(first <= exact + 1e-9 and abs(sr - exact) < 1e-6 * exact,
           f"{tag}spectral regulariser {first:.6f} (first call) <= {sr:.8f} (440 iterations) == sum of exact sigma "
           f"{exact:.8f}")
    alpha = kl_balancer_coeff(ta.scales, model.groups_per_scale).double()
    # decoder order: the top scale's 1 group weighs 1 / 1, the next scale's 2 groups 2^2 / 2 each
    report(alpha.tolist() == [1.0, 2.0, 2.0], f"{tag}'square' balancer coefficients {alpha.tolist()} == [1, 2, 2]")
    opt = torch.optim.Adamax(model.parameters(), lr=1e-2, eps=ADAMAX_EPS, weight_decay=WEIGHT_DECAY)
    loss = train_step(model, opt, xb, alpha, 0.5, 1e-2)
    grads = all(p.grad is not None for p in model.parameters())
    report(math.isfinite(float(loss)) and grads,
           f"{tag}a training step is finite ({float(loss):.3f}) and reaches every parameter")
    model.eval()
    img = sample_step(model, 3)
    report(img.shape == (3, 3, 8, 8) and float(img.min()) >= 0 and float(img.max()) <= 1,
           f"{tag}sampling gives {tuple(img.shape)} images in [0, 1]")


# --------------------------------------------------------------------------------------------------
# Benchmark.

def benchmark(args):
    torch.manual_seed(args.seed)
    model = AutoEncoder(args)
    params = param_count(model)
    macs = forward_macs(model, random_batch(args, 2))
    alpha = kl_balancer_coeff(args.scales, model.groups_per_scale)
    opt = torch.optim.Adamax(model.parameters(), lr=args.lr, eps=ADAMAX_EPS, weight_decay=WEIGHT_DECAY)
    model.train()
    train_times = []
    for i in range(args.warmup + args.iters):
        x = random_batch(args, args.batch)
        start = time.perf_counter()
        loss = train_step(model, opt, x, alpha, args.kl_coeff, args.wdn)
        elapsed = time.perf_counter() - start
        if not math.isfinite(loss.item()):
            raise RuntimeError(f"training loss is not finite at iteration {i}: {loss.item()}")
        if i >= args.warmup:
            train_times.append(elapsed)
    model.eval()
    sample_times = []
    for i in range(args.warmup + args.iters):
        start = time.perf_counter()
        img = sample_step(model, args.batch)
        elapsed = time.perf_counter() - start
        if i >= args.warmup:
            sample_times.append(elapsed)
    if not bool(torch.isfinite(img).all()):
        raise RuntimeError("the sampling step produced non-finite values")
    return {
        "framework": "pytorch",
        "torch": torch.__version__,
        "params": params,
        "batch": args.batch,
        "threads": args.threads,
        "likelihood": args.likelihood,
        "groups_per_scale": model.groups_per_scale,
        "kl_coeff": args.kl_coeff,
        "num_nf": args.num_nf,
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
    p = _Parser(prog="nvae_torch.py", description="Times NVAE's training and sampling steps in PyTorch.")
    p.add_argument("--image", type=int, nargs=3, default=[32, 32, 3], metavar=("H", "W", "C"),
                   help="image height, width and channels (default 32 32 3)")
    p.add_argument("--channels-enc", type=int, default=128, help="encoder channels (default 128)")
    p.add_argument("--channels-dec", type=int, default=128, help="decoder channels (default 128)")
    p.add_argument("--pre-blocks", type=int, default=1, help="preprocessing blocks (default 1)")
    p.add_argument("--pre-cells", type=int, default=2, help="cells per preprocessing block (default 2)")
    p.add_argument("--scales", type=int, default=1, help="latent scales (default 1)")
    p.add_argument("--groups", type=int, default=30, help="latent groups of the finest scale (default 30)")
    p.add_argument("--ada-groups", action="store_true", help="halve the groups at each coarser scale")
    p.add_argument("--min-groups", type=int, default=1, help="the least groups per scale with --ada-groups "
                   "(default 1)")
    p.add_argument("--latent", type=int, default=20, help="latent channels per group (default 20)")
    p.add_argument("--cells-enc", type=int, default=2, help="encoder cells per group (default 2)")
    p.add_argument("--cells-dec", type=int, default=2, help="decoder cells per group (default 2)")
    p.add_argument("--post-blocks", type=int, default=1, help="postprocessing blocks (default 1)")
    p.add_argument("--post-cells", type=int, default=2, help="cells per postprocessing block (default 2)")
    p.add_argument("--num-mix", type=int, default=10, help="logistic mixture components (default 10)")
    p.add_argument("--likelihood", choices=["dmol", "bernoulli"], default="dmol",
                   help="discretised mixture of logistics (RGB) or Bernoulli (binary images) (default dmol)")
    p.add_argument("--no-se", action="store_true", help="leave out squeeze-and-excitation")
    p.add_argument("--num-nf", type=int, default=0, help="paired autoregressive flow cells after each group's "
                   "posterior sample (upstream CIFAR-10: 1) (default 0)")
    p.add_argument("--kl-coeff", type=float, default=0.5, help="the KL warm-up coefficient of the step; below 1 "
                   "the KL balancer runs (default 0.5)")
    p.add_argument("--wdn", type=float, default=1e-2, help="spectral and BN regulariser weight (default 1e-2)")
    p.add_argument("--lr", type=float, default=1e-2, help="Adamax learning rate (default 1e-2)")
    p.add_argument("--batch", type=int, help="images per step")
    p.add_argument("--threads", type=int, help="intra-op threads")
    p.add_argument("--warmup", type=int, help="untimed iterations before timing")
    p.add_argument("--iters", type=int, help="timed iterations (median reported)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--check", action="store_true", help="run the self-checks first; exit 1 on failure")
    p.add_argument("--list-state", action="store_true", help="print the state_dict keys and shapes, then exit")
    args = p.parse_args(argv)
    if not args.list_state:
        for name in ("batch", "threads", "warmup", "iters"):
            if getattr(args, name) is None:
                p.error(f"--{name} is required")
    for name, minimum in (("channels_enc", 2), ("channels_dec", 2), ("pre_blocks", 1), ("pre_cells", 1),
                          ("scales", 1), ("groups", 1), ("min_groups", 1), ("latent", 1), ("cells_enc", 1),
                          ("cells_dec", 1), ("post_blocks", 1), ("post_cells", 1), ("num_mix", 1), ("num_nf", 0),
                          ("batch", 1), ("threads", 1), ("warmup", 0), ("iters", 1)):
        value = getattr(args, name)
        if value is not None and value < minimum:
            p.error(f"--{name.replace('_', '-')} must be >= {minimum}, got {value}")
    if args.post_blocks != args.pre_blocks:
        p.error(f"--post-blocks {args.post_blocks} must equal --pre-blocks {args.pre_blocks} (output size)")
    if args.kl_coeff < 0 or args.wdn < 0 or args.lr <= 0:
        p.error("--kl-coeff and --wdn must be >= 0 and --lr > 0")
    h, w, c = args.image
    f = 2 ** (args.pre_blocks + args.scales - 1)
    if min(h, w, c) < 1 or h % f or w % f:
        p.error(f"--image H W C must be positive with H and W multiples of {f} (2^(pre-blocks + scales - 1)), "
                f"got {h} {w} {c}")
    if args.likelihood == "dmol" and c != 3:
        p.error(f"--likelihood dmol needs 3 channels, got {c}")
    return args


def main(argv):
    args = parse_args(argv)
    torch.set_num_threads(args.threads or 1)
    torch.set_num_interop_threads(1)
    torch.set_default_dtype(torch.float32)
    if args.list_state:
        torch.manual_seed(args.seed)
        for name, t in AutoEncoder(args).state_dict().items():
            print(name, list(t.shape))
        return 0
    if args.check:
        failed = run_checks(args)
        if failed:
            print(f"nvae_torch.py: {failed} self-check(s) failed", file=sys.stderr)
            return 1
    print(json.dumps(benchmark(args)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
