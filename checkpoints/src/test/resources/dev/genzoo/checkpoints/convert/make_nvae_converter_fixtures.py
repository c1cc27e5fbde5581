#!/usr/bin/python3
"""Writes the fixtures of NvaeConverterTest and NvaeCheckpointConversionTest (checkpoints module, packages
dev.genzoo.checkpoints.convert and dev.genzoo.graphs.nvae): small NVAE checkpoints in the layout of the authors'
checkpoint.pt, and the outputs of their networks, computed in PyTorch.

Run from anywhere with Debian's python3-torch (torch 1.13):  /usr/bin/python3 make_nvae_converter_fixtures.py
It writes, beside itself:

  nvae_cifar10_tiny.pt          torch.save of the dict upstream's train.py saves (github NVlabs/NVAE, train.py):
                                {'epoch', 'state_dict', 'optimizer', 'global_step', 'args' (an argparse.Namespace
                                with train.py's arguments), 'arch_instance' (utils.get_arch_cells('res_mbconv')),
                                'scheduler', 'grad_scalar'}, for a tiny CIFAR-10 model: 2 channels, two latent scales
                                (2 + 1 groups of 2 latents with --ada_groups), one pre-processing block of 2 cells, one
                                post-processing block of 2 cells, SE, --res_dist, one paired flow cell per group
                                (--num_nf 1), a mixture of 2 logistics; the optimizer entry is Adamax's state_dict
                                with an empty state (its moments would triple the file).
  nvae_cifar10_tiny_reference.npz
                                the network in eval mode (BatchNorm with the running statistics) in float64 on one
                                8-bit image: x [1, 32, 32, 3] (values 0..255, NHWC); the posterior pass with the
                                standard-normal draws fixed, eps_<g> [1, h, w, L] (NHWC, decoder order): logits
                                [1, 32, 32, 20] (NHWC, stored as float32), kl [1, G] (per group: with flows the
                                one-draw log q - log p), log_q [1], log_p [1]; and the prior pass at temperature
                                prior_t with draws prior_eps_<g>: prior_logits.
  nvae_mnist_tiny.pt, nvae_mnist_tiny_reference.npz
                                the same for a tiny binarised-MNIST model (28 x 28 padded to 32 x 32 as upstream's data
                                loader does, Bernoulli output): 2 channels, two scales of 2 + 2 groups of 2 latents,
                                one pre- and one post-processing cell, without SE, without --res_dist (q predicted
                                directly), without flows; x is [1, 32, 32, 1], a binary image with the 2-pixel zero
                                border; logits [1, 32, 32, 1].
  nvae_cifar10_state_keys.txt.gz
                                every state_dict key and shape of upstream's CIFAR-10 model (the README's command:
                                128 channels, 1 scale of 30 groups of 20 latents, 2 + 2 cells per group, 1 pre/post
                                block of 2 cells, SE, res_dist, num_nf 1, 10 logistics), one "key [d0, d1, ...]" per
                                line; weights are not stored.

The networks are the modules of tools' bench/nvae_torch.py (imported by path), which rebuild upstream's AutoEncoder
(model.py, neural_operations.py, neural_ar_operations.py) with upstream's attribute names, so state_dict keys and
shapes are upstream's. The forward passes below follow upstream's AutoEncoder.forward and sample (model.py),
including the res_dist switch and the flow cells after each posterior draw, with the draws taken from the fixed
eps instead of torch.randn. Weights are moved away from their initial values (random perturbations, BatchNorm
statistics and scales) so that every tensor matters.
"""

import argparse
import gzip
import importlib.util
import os
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, *[".."] * 8))
PORT = os.path.join(REPO, "tools/src/main/resources/dev/genzoo/tools/bench/nvae_torch.py")

spec = importlib.util.spec_from_file_location("nvae_torch", PORT)
nt = importlib.util.module_from_spec(spec)
sys.modules["nvae_torch"] = nt
spec.loader.exec_module(nt)

ARCH_RES_MBCONV = {
    "normal_enc": ["res_bnswish", "res_bnswish"], "down_enc": ["res_bnswish", "res_bnswish"],
    "normal_dec": ["mconv_e6k5g0"], "up_dec": ["mconv_e6k5g0"],
    "normal_pre": ["res_bnswish", "res_bnswish"], "down_pre": ["res_bnswish", "res_bnswish"],
    "normal_post": ["mconv_e3k5g0"], "up_post": ["mconv_e3k5g0"], "ar_nn": [""],
}


def upstream_args(**over):
    """An argparse.Namespace with upstream train.py's arguments (its defaults, then `over`), plus what train.py and
    init_processes add before saving (num_total_iter, distributed)."""
    a = dict(root="/tmp/nasvae/expr", save="/tmp/nasvae/expr/eval-tiny", dataset="cifar10", data="/tmp/nasvae/data",
             batch_size=32, learning_rate=1e-2, learning_rate_min=1e-4, weight_decay=3e-4, weight_decay_norm=1e-2,
             weight_decay_norm_init=10.0, weight_decay_norm_anneal=False, epochs=400, warmup_epochs=5,
             fast_adamax=True, arch_instance="res_mbconv", kl_anneal_portion=0.3, kl_const_portion=1e-4,
             kl_const_coeff=1e-4, num_nf=0, num_x_bits=8, num_latent_scales=1, num_groups_per_scale=10,
             num_latent_per_group=20, ada_groups=False, min_groups_per_scale=1, num_channels_enc=32,
             num_preprocess_blocks=2, num_preprocess_cells=3, num_cell_per_cond_enc=1, num_channels_dec=32,
             num_postprocess_blocks=2, num_postprocess_cells=3, num_cell_per_cond_dec=1, num_mixture_dec=10,
             use_se=False, res_dist=False, cont_training=False, num_proc_node=1, node_rank=0, local_rank=0,
             global_rank=0, num_process_per_node=8, master_address="127.0.0.1", seed=1)
    a.update(over)
    a["num_total_iter"] = 7
    a["distributed"] = True
    return argparse.Namespace(**a)


def port_args(u):
    """The bench port's arguments for upstream's args u (image size from the dataset as upstream's get_input_size)."""
    grey = u.dataset in ("mnist", "omniglot")
    return argparse.Namespace(
        image=[32, 32, 1 if grey else 3], channels_enc=u.num_channels_enc, channels_dec=u.num_channels_dec,
        pre_blocks=u.num_preprocess_blocks, pre_cells=u.num_preprocess_cells, scales=u.num_latent_scales,
        groups=u.num_groups_per_scale, ada_groups=u.ada_groups, min_groups=u.min_groups_per_scale,
        latent=u.num_latent_per_group, cells_enc=u.num_cell_per_cond_enc, cells_dec=u.num_cell_per_cond_dec,
        post_blocks=u.num_postprocess_blocks, post_cells=u.num_postprocess_cells, num_mix=u.num_mixture_dec,
        likelihood="bernoulli" if grey else "dmol", no_se=not u.use_se, num_nf=u.num_nf)


class FixedDraws:
    """Replaces Normal.sample: each call returns mu + sigma * eps with the next of the given eps (NCHW)."""

    def __init__(self, eps):
        self.eps = list(eps)
        self.used = 0

    def __call__(self, normal):
        e = self.eps[self.used]
        self.used += 1
        assert e.shape == normal.mu.shape, (e.shape, normal.mu.shape)
        return normal.mu + normal.sigma * e


def forward(model, x, res_dist, draws):
    """Upstream AutoEncoder.forward (model.py): logits, log_q, log_p [N], kl_all [N] per group."""
    s = model.stem(2 * x - 1.0)
    for cell in model.pre_process:
        s = cell(s)
    comb_enc, comb_s = [], []
    for cell in model.enc_tower:
        if cell.cell_type == "combiner_enc":
            comb_enc.append(cell)
            comb_s.append(s)
        else:
            s = cell(s)
    comb_enc.reverse()
    comb_s.reverse()

    ftr = model.enc0(s)
    mu_q, log_sig_q = torch.chunk(model.enc_sampler[0](ftr), 2, dim=1)
    dist = nt.Normal(mu_q, log_sig_q)
    z = draws(dist)
    log_q_conv = dist.log_p(z)
    nf = model.num_flows
    for n in range(nf):
        z, log_det = model.nf_cells[n](z)
        log_q_conv = log_q_conv - log_det
    nf_offset = nf
    all_q, all_log_q = [dist], [log_q_conv]
    dist = nt.Normal(torch.zeros_like(z), torch.zeros_like(z))
    all_p, all_log_p = [dist], [dist.log_p(z)]

    idx_dec = 0
    s = model.prior_ftr0.unsqueeze(0).expand(z.shape[0], -1, -1, -1)
    for cell in model.dec_tower:
        if cell.cell_type == "combiner_dec":
            if idx_dec > 0:
                mu_p, log_sig_p = torch.chunk(model.dec_sampler[idx_dec - 1](s), 2, dim=1)
                ftr = comb_enc[idx_dec - 1](comb_s[idx_dec - 1], s)
                mu_q, log_sig_q = torch.chunk(model.enc_sampler[idx_dec](ftr), 2, dim=1)
                dist = nt.Normal(mu_p + mu_q, log_sig_p + log_sig_q) if res_dist else nt.Normal(mu_q, log_sig_q)
                z = draws(dist)
                log_q_conv = dist.log_p(z)
                for n in range(nf):
                    z, log_det = model.nf_cells[nf_offset + n](z)
                    log_q_conv = log_q_conv - log_det
                nf_offset += nf
                all_log_q.append(log_q_conv)
                all_q.append(dist)
                dist = nt.Normal(mu_p, log_sig_p)
                all_p.append(dist)
                all_log_p.append(dist.log_p(z))
            s = cell(s, z)
            idx_dec += 1
        else:
            s = cell(s)
    for cell in model.post_process:
        s = cell(s)
    logits = model.image_conditional(s)

    kl_all, log_q, log_p = [], 0.0, 0.0
    for q, p, lq, lp in zip(all_q, all_p, all_log_q, all_log_p):
        kl = lq - lp if nf > 0 else q.kl(p)
        kl_all.append(torch.sum(kl, dim=[1, 2, 3]))
        log_q = log_q + torch.sum(lq, dim=[1, 2, 3])
        log_p = log_p + torch.sum(lp, dim=[1, 2, 3])
    return logits, log_q, log_p, kl_all


def sample(model, n, t, draws):
    """Upstream AutoEncoder.sample (model.py): the logits of n prior samples at temperature t."""
    z0 = [n] + model.z0_size
    dtype = model.prior_ftr0.dtype
    z = draws(nt.Normal(torch.zeros(z0, dtype=dtype), torch.zeros(z0, dtype=dtype), t))
    idx_dec = 0
    s = model.prior_ftr0.unsqueeze(0).expand(n, -1, -1, -1)
    for cell in model.dec_tower:
        if cell.cell_type == "combiner_dec":
            if idx_dec > 0:
                mu, log_sigma = torch.chunk(model.dec_sampler[idx_dec - 1](s), 2, dim=1)
                z = draws(nt.Normal(mu, log_sigma, t))
            s = cell(s, z)
            idx_dec += 1
        else:
            s = cell(s)
    for cell in model.post_process:
        s = cell(s)
    return model.image_conditional(s)


def perturb(model, gen):
    """Moves every weight off its initial value, as training would: kernels and biases by 0.1 N(0, 1) (x 0.5 for
    log_weight_norm), BatchNorm scales 1 + 0.2 N, shifts 0.1 N, running means 0.2 N, running variances exp(0.4 N)."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            scale = 0.05 if name.endswith("log_weight_norm") else 0.1
            p.add_(scale * torch.randn(p.shape, generator=gen))
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.weight.copy_(1 + 0.2 * torch.randn(m.weight.shape, generator=gen))
                m.bias.copy_(0.1 * torch.randn(m.bias.shape, generator=gen))
                m.running_mean.copy_(0.2 * torch.randn(m.running_mean.shape, generator=gen))
                m.running_var.copy_(torch.exp(0.4 * torch.randn(m.running_var.shape, generator=gen)))
                m.num_batches_tracked.fill_(7)


def latent_shapes(model, n):
    """[n, L, h, w] of each group in decoder order."""
    shapes, h = [], model.z0_size[1]
    for s in range(model.num_latent_scales):
        for _ in range(model.groups_per_scale[model.num_latent_scales - s - 1]):
            shapes.append([n, model.num_latent_per_group, h, h])
        h *= 2
    return shapes


def nhwc(t):
    return np.ascontiguousarray(t.detach().permute(0, 2, 3, 1).numpy())


def make(name, u, x8, seed, prior_t):
    gen = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    model = nt.AutoEncoder(port_args(u))
    perturb(model, gen)
    model.train()
    # Adamax as train.py builds it; its state stays empty (a step would add two tensors per parameter and triple the
    # file: the converter reads only 'state_dict' and 'args')
    optimizer = torch.optim.Adamax(model.parameters(), lr=1e-2, eps=1e-3, weight_decay=3e-4)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, float(u.epochs - u.warmup_epochs - 1),
                                                           eta_min=u.learning_rate_min)
    checkpoint = {"epoch": 3, "state_dict": model.state_dict(), "optimizer": optimizer.state_dict(),
                  "global_step": 21, "args": u, "arch_instance": ARCH_RES_MBCONV,
                  "scheduler": scheduler.state_dict(),
                  "grad_scalar": {"scale": 1024.0, "growth_factor": 2.0, "backoff_factor": 0.5,
                                  "growth_interval": 2000, "_growth_tracker": 5}}
    torch.save(checkpoint, os.path.join(HERE, name + ".pt"))

    # the reference: the saved float32 weights in float64, eval mode
    model = model.double().eval()
    n = x8.shape[0]
    x = torch.from_numpy(x8).double().permute(0, 3, 1, 2) / 255.0
    eps = [torch.randn(s, generator=gen).float().double() for s in latent_shapes(model, n)]
    prior_eps = [torch.randn(s, generator=gen).float().double() for s in latent_shapes(model, n)]
    with torch.no_grad():
        draws = FixedDraws(eps)
        logits, log_q, log_p, kl_all = forward(model, x, u.res_dist, draws)
        assert draws.used == len(eps)
        draws = FixedDraws(prior_eps)
        prior_logits = sample(model, n, prior_t, draws)
        assert draws.used == len(prior_eps)
    out = {"x": x8.astype(np.float32), "logits": nhwc(logits).astype(np.float32),
           "kl": torch.stack(kl_all, dim=1).numpy(), "log_q": log_q.numpy(), "log_p": log_p.numpy(),
           "prior_t": np.array(prior_t), "prior_logits": nhwc(prior_logits).astype(np.float32)}
    for g, e in enumerate(eps):
        out["eps_%d" % g] = nhwc(e).astype(np.float32)
    for g, e in enumerate(prior_eps):
        out["prior_eps_%d" % g] = nhwc(e).astype(np.float32)
    np.savez(os.path.join(HERE, name + "_reference.npz"), **out)
    print(name, "params", nt.param_count(model), "groups", len(eps), "logits", tuple(logits.shape),
          "kl", [round(float(k), 3) for k in torch.stack(kl_all, 1)[0]],
          "size", os.path.getsize(os.path.join(HERE, name + ".pt")))


def main():
    torch.set_num_threads(1)
    torch.set_default_dtype(torch.float32)
    rng = np.random.default_rng(5)

    cifar = upstream_args(dataset="cifar10", num_channels_enc=2, num_channels_dec=2, num_preprocess_blocks=1,
                          num_preprocess_cells=2, num_postprocess_blocks=1, num_postprocess_cells=2,
                          num_latent_scales=2, num_groups_per_scale=2, ada_groups=True, min_groups_per_scale=1,
                          num_latent_per_group=2, num_cell_per_cond_enc=1, num_cell_per_cond_dec=1,
                          num_mixture_dec=2, use_se=True, res_dist=True, num_nf=1)
    x = rng.integers(0, 256, size=(1, 32, 32, 3)).astype(np.uint8)
    make("nvae_cifar10_tiny", cifar, x, 11, 0.7)

    mnist = upstream_args(dataset="mnist", num_channels_enc=2, num_channels_dec=2, num_preprocess_blocks=1,
                          num_preprocess_cells=1, num_postprocess_blocks=1, num_postprocess_cells=1,
                          num_latent_scales=2, num_groups_per_scale=2, ada_groups=False, num_latent_per_group=2,
                          num_cell_per_cond_enc=1, num_cell_per_cond_dec=1, num_mixture_dec=10, use_se=False,
                          res_dist=False, num_nf=0, epochs=400, batch_size=200)
    digits = (rng.random(size=(1, 28, 28, 1)) < 0.3).astype(np.uint8) * 255
    x = np.zeros((1, 32, 32, 1), dtype=np.uint8)
    x[:, 2:30, 2:30] = digits
    make("nvae_mnist_tiny", mnist, x, 12, 1.0)

    full = upstream_args(dataset="cifar10", num_channels_enc=128, num_channels_dec=128, num_preprocess_blocks=1,
                         num_preprocess_cells=2, num_postprocess_blocks=1, num_postprocess_cells=2,
                         num_latent_scales=1, num_groups_per_scale=30, ada_groups=True, num_latent_per_group=20,
                         num_cell_per_cond_enc=2, num_cell_per_cond_dec=2, num_mixture_dec=10, use_se=True,
                         res_dist=True, num_nf=1)
    model = nt.AutoEncoder(port_args(full))
    lines = ["%s %s" % (k, list(v.shape)) for k, v in model.state_dict().items()]
    with gzip.GzipFile(os.path.join(HERE, "nvae_cifar10_state_keys.txt.gz"), "wb", mtime=0) as f:
        f.write(("\n".join(lines) + "\n").encode("ascii"))
    print("cifar10 keys", len(lines), "params", nt.param_count(model))


if __name__ == "__main__":
    main()
