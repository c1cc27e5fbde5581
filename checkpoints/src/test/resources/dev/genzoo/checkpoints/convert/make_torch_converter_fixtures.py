#!/usr/bin/python3
"""Upstream-layout PyTorch checkpoints for the NCSNv2 and Mimicry SN-GAN converter tests
(dev.genzoo.checkpoints.convert.Ncsnv2ConverterTest, MimicrySnganConverterTest).

The networks are the repository's PyTorch ports of the upstream code, imported from the graphs module's fixture
scripts (same module names, so the same state_dict keys as upstream):
  * graphs/src/test/resources/dev/genzoo/graphs/ncsn/make_fixtures.py: NCSNv2 of ermongroup/ncsnv2 (models/ncsnv2.py);
  * graphs/src/test/resources/dev/genzoo/graphs/sngan/make_fixtures.py: Mimicry's ResNetGenerator32 /
    ResNetDiscriminator32 (torch_mimicry/nets/sngan/sngan_32.py; SNConv2d / SNLinear = torch.nn.utils.spectral_norm).

The checkpoints are saved the way upstream saves them:
  * NCSNv2 (runners/ncsn_runner.py): the score network wrapped in torch.nn.DataParallel (keys start with 'module.'),
    `states = [score.state_dict(), optimizer.state_dict(), epoch, step]` and, with EMA on,
    `states.append(ema_helper.state_dict())`, where EMAHelper.state_dict() is its `shadow` dict: one entry per
    parameter with requires_grad, named by the *inner* module's named_parameters() (no 'module.' prefix, no buffers).
  * Mimicry (torch_mimicry/nets/basemodel/basemodel.py save_checkpoint): one file per network,
    `{'model_state_dict': net.state_dict(), 'optimizer_state_dict': opt.state_dict(), 'global_step': step}`.

Files (beside this script):
  ncsnv2_ema.pth        NCSNv2 at ngf 2 on 8x8x3, L = 10 sigmas 10 .. 0.01, after two Adam steps, with an EMA shadow
                        that differs visibly from the raw weights (so a test sees which copy was converted); saved in
                        torch's legacy (pre-1.6) format, every other .pth in the zip format;
  ncsnv2_noema.pth      the same raw weights, EMA off (a 4-element list; optimizer state left out to stay small);
  ncsnv2_missing.pth    EMA checkpoint lacking res2.0.conv2.conv.weight (in the state dict and in the shadow);
  ncsnv2_wrongshape.pth EMA checkpoint whose end_conv.bias has 4 entries instead of 3, plus an unknown buffer
                        'module.extra_buffer';
  ncsnv2_reference.npz  input/x [N, 8, 8, 3] NHWC in [0, 1], input/y [N] level indices (int64), output/raw_ema and
                        output/raw_noema (the network output before the division by sigma, NHWC, eval mode, EMA and
                        raw weights), output/score_ema (raw_ema / sigmas[y]), meta/sigmas, meta/ngf, meta/image;
  ncsnv2_cifar10_keys.txt  every state_dict key of the CIFAR-10 network (ngf 128, 32x32x3, L = 232, wrapped in
                        DataParallel) with its shape: 'key<TAB>d0,d1,...' (scalars: empty shape);
  mimicry_tiny/netG.pth, mimicry_tiny/netD.pth  ResNetGenerator32 / ResNetDiscriminator32 at nz 8, ngf 8, ndf 8,
                        bottom width 2 on 8x8x3, after two hinge-loss iterations (Adam 2e-4, betas (0, 0.9)), BatchNorm
                        statistics set to non-trivial values and the critic's raw weights moved after the last power
                        iteration (as an optimiser step does), so that PyTorch's eval-mode sigma = u^T W v differs from
                        |W^T u|;
  mimicry_bad/netG.pth, mimicry_bad/netD.pth  the same without block2.c1.weight (netG) and with l5.weight_orig of
                        shape [1, 9] (netD);
  mimicry_reference.npz input/z [N, 8], input/x [N, 8, 8, 3] NHWC in [-1, 1], output/g_eval [N, 8, 8, 3] (netG in eval
                        mode: BatchNorm running statistics), output/d_eval [N] (netD in eval mode: stored u and v),
                        output/d_eval_unit_u [N] (what the critic would give with sigma = |W^T u|, the value a converter
                        that copied u unscaled would reproduce), meta/{nz,ngf,ndf,bottom_width,image};
  mimicry_sngan32_keys.txt  netG.* and netD.* state_dict keys of Mimicry's SNGAN32 defaults (nz 128, ngf 256, ndf 128,
                        bottom width 4) with their shapes, as above.

Run: /usr/bin/python3 make_torch_converter_fixtures.py  (torch 1.13, numpy; CPU; deterministic seeds)
"""
import importlib.util
import math
import os
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

HERE = Path(__file__).resolve().parent


def repo_root():
    for p in HERE.parents:
        if (p / "graphs" / "src" / "test" / "resources").is_dir():
            return p
    raise SystemExit("cannot find the repository root (a folder with graphs/src/test/resources) above " + str(HERE))


def load_port(name, rel):
    path = repo_root() / "graphs" / "src" / "test" / "resources" / "dev" / "genzoo" / "graphs" / rel
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


ncsn_port = load_port("ncsn_port", "ncsn/make_fixtures.py")
sngan_port = load_port("sngan_port", "sngan/make_fixtures.py")


def f32(t):
    return np.ascontiguousarray(t.detach().cpu().numpy().astype(np.float32))


def nhwc(t):
    return f32(t.permute(0, 2, 3, 1))


def write_keys(path, named_shapes, header):
    with open(path, "w") as f:
        f.write("# " + header + "\n")
        for key, shape in named_shapes:
            f.write(key + "\t" + ",".join(str(d) for d in shape) + "\n")


# ----------------------------------------------------------------------------------------------------------------------
# NCSNv2


class ShadowEma:
    """The semantics of ncsnv2's models/ema.py EMAHelper: a dict of parameter copies keyed by the inner module's
    named_parameters(); state_dict() returns that dict."""

    def __init__(self, mu):
        self.mu = mu
        self.shadow = {}

    @staticmethod
    def _inner(module):
        return module.module if isinstance(module, nn.DataParallel) else module

    def register(self, module):
        for name, p in self._inner(module).named_parameters():
            if p.requires_grad:
                self.shadow[name] = p.data.clone()

    def update(self, module):
        for name, p in self._inner(module).named_parameters():
            if p.requires_grad:
                self.shadow[name] = (1. - self.mu) * p.data + self.mu * self.shadow[name]

    def state_dict(self):
        return self.shadow


def ncsnv2_fixtures():
    torch.manual_seed(2020)
    ngf, image, levels = 2, (8, 8, 3), 10
    cfg = ncsn_port.config("v2", ngf, image, levels)
    cfg.sigmas = list(np.exp(np.linspace(np.log(10.0), np.log(0.01), levels)))  # upstream's get_sigmas, geometric
    net = ncsn_port.NCSNv2(cfg)
    with torch.no_grad():
        for p in net.parameters():
            p.add_(0.05 * torch.randn_like(p))
    score = nn.DataParallel(net)  # no GPU: forwards to the module; state_dict keys get the 'module.' prefix
    optimizer = torch.optim.Adam(score.parameters(), lr=1e-4, betas=(0.9, 0.999), eps=1e-8)
    ema = ShadowEma(0.999)
    ema.register(score)
    sigmas = net.sigmas
    h, w, c = image
    for step in range(2):  # denoising score matching (anneal_dsm_score_estimation, anneal_power 2)
        x = torch.rand(4, c, h, w) * 2 - 1
        labels = torch.randint(0, levels, (4,))
        used = sigmas[labels].view(-1, 1, 1, 1)
        noisy = x + torch.randn_like(x) * used
        target = -(noisy - x) / used ** 2
        loss = (0.5 * ((score(noisy, labels) - target) ** 2).sum(dim=(1, 2, 3)) * used.view(-1) ** 2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        ema.update(score)
    with torch.no_grad():  # a shadow that lags visibly behind the raw weights
        for name in ema.shadow:
            ema.shadow[name] = ema.shadow[name] + 0.05 * torch.randn_like(ema.shadow[name])

    states = [score.state_dict(), optimizer.state_dict(), 3, 2]
    # The legacy (pre-1.6, non-zip) format: ermongroup/ncsnv2's requirements.txt pins torch 1.5.0, whose torch.save
    # writes it; it is also the smaller file here (the zip format pads each of its ~770 records).
    torch.save(states + [ema.state_dict()], HERE / "ncsnv2_ema.pth", _use_new_zipfile_serialization=False)
    torch.save([score.state_dict(), {"state": {}, "param_groups": []}, 3, 2], HERE / "ncsnv2_noema.pth")

    missing_key = "res2.0.conv2.conv.weight"
    sd = {k: v for k, v in score.state_dict().items() if k != "module." + missing_key}
    sh = {k: v for k, v in ema.state_dict().items() if k != missing_key}
    torch.save([sd, {"state": {}, "param_groups": []}, 3, 2, sh], HERE / "ncsnv2_missing.pth")

    sd = dict(score.state_dict())
    sh = dict(ema.state_dict())
    sd["module.end_conv.bias"] = torch.zeros(4)
    sh["end_conv.bias"] = torch.zeros(4)
    sd["module.extra_buffer"] = torch.ones(2)
    torch.save([sd, {"state": {}, "param_groups": []}, 3, 2, sh], HERE / "ncsnv2_wrongshape.pth")

    xs = torch.rand(2, c, h, w)
    ys = torch.tensor([0, levels - 1])
    net.eval()
    with torch.no_grad():
        raw_noema = net.raw(xs)
        ema_net = ncsn_port.NCSNv2(cfg)
        ema_net.load_state_dict(net.state_dict())
        for name, p in ema_net.named_parameters():
            p.copy_(ema.shadow[name])
        ema_net.eval()
        raw_ema = ema_net.raw(xs)
        score_ema = ema_net(xs, ys)
    diff = float((raw_ema - raw_noema).abs().max())
    assert diff > 0.05 * float(raw_ema.abs().max()), "EMA and raw outputs too close to tell apart"
    np.savez(HERE / "ncsnv2_reference.npz", **{
        "input/x": nhwc(xs), "input/y": ys.numpy().astype(np.int64),
        "output/raw_ema": nhwc(raw_ema), "output/raw_noema": nhwc(raw_noema), "output/score_ema": nhwc(score_ema),
        "meta/sigmas": f32(sigmas), "meta/ngf": np.array(ngf, dtype=np.int64),
        "meta/image": np.array(image, dtype=np.int64)})
    print("ncsnv2: {} parameters; rms raw_ema {:.3f}, raw_noema {:.3f}, max |ema - raw| {:.3f}".format(
        sum(p.numel() for p in net.parameters()), float(raw_ema.pow(2).mean().sqrt()),
        float(raw_noema.pow(2).mean().sqrt()), diff))

    full_cfg = ncsn_port.config("v2", 128, (32, 32, 3), 232)
    full_cfg.sigmas = list(np.exp(np.linspace(np.log(50.0), np.log(0.01), 232)))
    full = nn.DataParallel(ncsn_port.NCSNv2(full_cfg))
    write_keys(HERE / "ncsnv2_cifar10_keys.txt", [(k, tuple(v.shape)) for k, v in full.state_dict().items()],
               "ermongroup/ncsnv2 NCSNv2, CIFAR-10 config (ngf 128, 32x32x3, 232 sigmas), in DataParallel: "
               "state_dict key<TAB>shape")


# ----------------------------------------------------------------------------------------------------------------------
# Mimicry SN-GAN


def mimicry_checkpoint(net, optimizer, step):
    return {"model_state_dict": net.state_dict(), "optimizer_state_dict": optimizer.state_dict(), "global_step": step}


def sn_modules(net):
    return [m for m in net.modules() if hasattr(m, "weight_u")]


def unit_u_output(critic, x):
    """The critic's output with sigma = |W^T u| for the stored u (what v = W^T u / |W^T u| gives)."""
    saved = {k: v.clone() for k, v in critic.state_dict().items()}
    with torch.no_grad():
        for m in sn_modules(critic):
            wm = m.weight_orig.reshape(m.weight_orig.shape[0], -1)
            m.weight_v.copy_(F.normalize(torch.mv(wm.t(), m.weight_u), dim=0, eps=1e-12))
        critic.eval()
        out = critic(x).reshape(-1)
    critic.load_state_dict(saved)
    return out


def mimicry_fixtures():
    torch.manual_seed(20200511)
    nz, ngf, ndf, bottom, size = 8, 8, 8, 2, 8
    gen = sngan_port.Generator(nz, ngf, bottom, size)
    critic = sngan_port.Critic(ndf)
    opt_g = torch.optim.Adam(gen.parameters(), 2e-4, betas=(0.0, 0.9))
    opt_d = torch.optim.Adam(critic.parameters(), 2e-4, betas=(0.0, 0.9))
    gen.train()
    critic.train()
    for step in range(2):  # Mimicry's loop: a G update, then n_dis D updates (hinge loss); n_dis = 2 here
        opt_g.zero_grad()
        (-critic(gen(torch.randn(4, nz))).mean()).backward()
        opt_g.step()
        for _ in range(2):
            real = torch.rand(4, 3, size, size) * 2 - 1
            fake = gen(torch.randn(4, nz)).detach()
            loss = F.relu(1 - critic(real)).mean() + F.relu(1 + critic(fake)).mean()
            opt_d.zero_grad()
            loss.backward()
            opt_d.step()
    with torch.no_grad():
        for m in gen.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.weight.add_(0.2 * torch.randn_like(m.weight))
                m.bias.add_(0.2 * torch.randn_like(m.bias))
                m.running_mean.copy_(0.3 * torch.randn_like(m.running_mean))
                m.running_var.copy_(0.5 + torch.rand_like(m.running_var))
        for m in sn_modules(critic):  # an optimiser step after the last power iteration
            m.weight_orig.add_(0.3 * m.weight_orig.std() * torch.randn_like(m.weight_orig))

    folder = HERE / "mimicry_tiny"
    folder.mkdir(exist_ok=True)
    torch.save(mimicry_checkpoint(gen, opt_g, 2), folder / "netG.pth")
    torch.save(mimicry_checkpoint(critic, opt_d, 2), folder / "netD.pth")

    bad = HERE / "mimicry_bad"
    bad.mkdir(exist_ok=True)
    g_sd = {k: v for k, v in gen.state_dict().items() if k != "block2.c1.weight"}
    d_sd = dict(critic.state_dict())
    d_sd["l5.weight_orig"] = torch.zeros(1, ndf + 1)
    torch.save({"model_state_dict": g_sd, "optimizer_state_dict": None, "global_step": 2}, bad / "netG.pth")
    torch.save({"model_state_dict": d_sd, "optimizer_state_dict": None, "global_step": 2}, bad / "netD.pth")

    z = torch.randn(3, nz)
    x = torch.rand(3, 3, size, size) * 2 - 1
    gen.eval()
    critic.eval()
    with torch.no_grad():
        g_eval = gen(z)
        d_eval = critic(x).reshape(-1)
    d_unit = unit_u_output(critic, x)
    gap = float((d_eval - d_unit).abs().max())
    assert gap > 1e-2 * float(d_eval.abs().max()), "eval sigma too close to |W^T u|: the test could not tell"
    np.savez(HERE / "mimicry_reference.npz", **{
        "input/z": f32(z), "input/x": nhwc(x), "output/g_eval": nhwc(g_eval), "output/d_eval": f32(d_eval),
        "output/d_eval_unit_u": f32(d_unit), "meta/nz": np.array(nz, dtype=np.int64),
        "meta/ngf": np.array(ngf, dtype=np.int64), "meta/ndf": np.array(ndf, dtype=np.int64),
        "meta/bottom_width": np.array(bottom, dtype=np.int64), "meta/image": np.array([size, size, 3], dtype=np.int64)})
    print("mimicry: G {} / D {} parameters; rms G(z) {:.3f}; D(x) {}; |D_eval - D_unit_u| max {:.4f}".format(
        sngan_port.count(gen), sngan_port.count(critic), float(g_eval.pow(2).mean().sqrt()),
        d_eval.numpy().round(4), gap))

    full_g = sngan_port.Generator(128, 256, 4, 32)
    full_d = sngan_port.Critic(128)
    keys = [("netG." + k, tuple(v.shape)) for k, v in full_g.state_dict().items()]
    keys += [("netD." + k, tuple(v.shape)) for k, v in full_d.state_dict().items()]
    write_keys(HERE / "mimicry_sngan32_keys.txt", keys,
               "Mimicry SNGAN32 (ResNetGenerator32 nz 128 ngf 256 bottom 4, ResNetDiscriminator32 ndf 128): "
               "model_state_dict key<TAB>shape, netG.* from netG.pth and netD.* from netD.pth")


def main():
    torch.set_num_threads(2)
    ncsnv2_fixtures()
    mimicry_fixtures()
    for p in sorted(HERE.rglob("*")):
        if p.is_file() and p.name != Path(__file__).name:
            print("{:>9} {}".format(os.path.getsize(p), p.relative_to(HERE)))


if __name__ == "__main__":
    main()
