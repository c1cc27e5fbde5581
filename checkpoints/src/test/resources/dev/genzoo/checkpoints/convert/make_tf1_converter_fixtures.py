#!/usr/bin/python3
"""Fixtures of genzoo's converters for the two TF1 Saver releases: DDPM (DdpmTf1Converter) and IGEBM
(IgebmTf1Converter). There is no TensorFlow here, so this script writes the UPSTREAM tensors (TF1 variable names, TF
layouts) into an .npz beside the reference input and output; the Java tests turn those arrays into a real TensorFlow
checkpoint with TensorFlow's own SaveV2 op before running a converter on it.

DDPM (Ho, Jain & Abbeel 2020; hojonathanho/diffusion, diffusion_tf/models/unet.py and nn.py, scripts/run_cifar.py,
diffusion_tf/tpu_utils/tpu_utils.py and utils.py). The network is built under tf.variable_scope('model'); nn.conv2d,
nn.dense and nn.nin create `W` and `b` (conv W is HWIO [k, k, in, out], dense and nin W are [in, out]);
tf.contrib.layers.group_norm(scope=name) creates `gamma` and `beta`. The released checkpoint
(diffusion_cifar10_model/model.ckpt-790000) also holds what training adds: tf.train.ExponentialMovingAverage's shadow
`<var>/ExponentialMovingAverage` of every trainable variable (decay 0.9999; the evaluation uses these), Adam's slots
`<var>/Adam` and `<var>/Adam_1`, its `beta1_power` and `beta2_power`, and `global_step`.

ddpm_tf1_tiny.npz: the U-Net of tools/.../bench/ddpm_torch.py (a PyTorch port of unet.py, imported from there) at ch 4,
ch_mult (1, 2), one residual block per level, attention at 4x4, 8x8x3 images and GroupNorm with 2 groups (the upstream
code has 32, which 4 channels cannot be split into; the groups own no variables). Arrays:
  ckpt/<name>            every tensor of the checkpoint under its TF1 name: the raw weights model/... (every parameter
                         N(0, 0.05^2), GroupNorm gammas 1 + N(0, 0.05^2)), different EMA shadows
                         model/.../ExponentialMovingAverage (another draw of the same law), the Adam slots (zeros), the
                         float32 scalars beta1_power and beta2_power and the int64 scalar global_step (790000)
  input/x [4, 8, 8, 3]   float32, NHWC;  input/t [4] int32 (0, 17, 500, 999)
  output/eps             eps_theta(x, t) with the EMA weights, NHWC (computed in float64, rounded to float32)
  output/eps_raw         the same with the raw weights
  meta/ch, meta/ch_mult, meta/num_res_blocks, meta/attn_res, meta/groups, meta/image_shape (int32)
ddpm_cifar10_upstream.json: the variables of the released CIFAR-10 model (ch 128, ch_mult (1, 2, 2, 2), two blocks,
  attention at 16, 32x32x3) under their TF1 names with TF shapes, read off the full-size PyTorch port, and the
  slot suffixes and other tensors of the training checkpoint. No weights.

IGEBM (Du & Mordatch 2019; openai/ebm_code_release, models.py ResNet32Large, utils.py init_conv_weight /
init_res_weight / init_fc_weight / init_attention_weight / get_weight / spectral_normed_weight / smart_res_block /
conv_block, train.py). train.py builds the weights with model.construct_weights('context_0'). In a convolution's
scope, get_weight('c', ...) creates `cweight` [k, k, in, out] and spectral_normed_weight creates the non-trainable
`c_u` [1, out]; init_conv_weight adds `b` [out], `g` [out], `gb` [in] and `cb` [in] (classes = 1). Residual block
<blk> has scopes <blk>_res_c1 (in -> out), <blk>_res_c2 (out -> out, its kernel the "zero" one under the lower-bound
spectral norm) and, when in != out, <blk>_res_adaptive. fc5 (no spectral norm) has `wweight` [4F, 1] and `b` [1].
ResNet32Large also creates an attention block `atten` (atten_{q,k,v}weight, atten_{q,k,v}_u, atten_{q,k,v}_b1, gamma)
that only --use_attention runs. The optimizer is the code's AdamOptimizer (custom_adam.py, name "Adam"): slots
`<var>/Adam`, `<var>/Adam_1` and the scalars beta1_power, beta2_power.
The unconditional forward (ResNet32Large.forward, FLAGS.cclass off, use_attention off):
  h = lrelu(conv(x, SN(c1_pre/cweight)))                     (conv_block: no bias, no scale, no extra bias)
  per block: c1 = conv(h + <blk>_res_c1/gb, SN(<blk>_res_c1/cweight)); c1 = lrelu(c1)
             c2 = conv(c1 + <blk>_res_c2/gb, SN_lb(<blk>_res_c2/cweight)) * <blk>_res_c2/g
             r = c2 + (conv(h, SN(<blk>_res_adaptive/cweight)) if in != out else h); avgpool 2x2 if down; lrelu(r)
  E(x) = relu(h) summed over H and W, times fc5/wweight, plus fc5/b
with lrelu of slope 0.2 and SAME 3x3 convolutions. SN views the kernel as W [9 in, out] and the row u [1, out]. The
authors' forward always runs one power iteration (v = l2n(u W^T), u' = l2n(v W), sigma = v W u'^T); genzoo's
inference uses the stored u as it is (v = l2n(W u), sigma = |W u|), its documented semantics. SN_lb: s = sigma + 1e-6,
W / s * min(s, 1).

igebm_tf1_tiny.npz: F = 4 filters on 8x8x3 images. Arrays:
  ckpt/<name>            every tensor of the checkpoint: context_0/... (kernels N(0, 1), some second kernels small
                         enough for the lower bound to leave them alone and some not, u rows random unit vectors,
                         gb 0.1 N(0, 1), g 1 + 0.2 N(0, 1), fc5 N(0, 1); the variables the forward never reads are
                         random too, so a converter that reads one of them shows in the output, except atten/gamma = 0
                         as in any checkpoint trained without --use_attention), Adam slots (zeros), beta1_power,
                         beta2_power
  input/x [3, 8, 8, 3]   float32 in [0, 1]
  output/energy          E(x) with the stored u (genzoo's inference), float64 rounded to float32
  output/energy_authors  E(x) with the authors' one power iteration (for information)
  meta/filters, meta/image_shape (int32)
igebm_cifar10_upstream.json: every variable construct_weights('context_0') creates at F = 128 on 32x32x3, with
  shapes and trainable flags, and the slot suffixes and other tensors of the training checkpoint. No weights.

The energies are cross-checked against graphs' independent port (graphs/src/test/resources/dev/genzoo/graphs/ebm/
make_fixtures.py) and the DDPM output against ddpm_torch.py's numpy reference.

Run: /usr/bin/python3 make_tf1_converter_fixtures.py [OUT_DIR]   (deterministic for a given torch version; seconds)
"""
import importlib.util
import json
import math
import os
import re
import sys

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))


def repo_file(*parts):
    """A file of the repository, found by walking up from this script."""
    d = HERE
    while True:
        p = os.path.join(d, *parts)
        if os.path.exists(p):
            return p
        parent = os.path.dirname(d)
        if parent == d:
            raise FileNotFoundError(os.path.join(*parts))
        d = parent


def load_module(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def save_npz(path, arrays):
    with open(path, 'wb') as f:  # a file object: numpy would append .npz to a name without it
        np.savez_compressed(f, **arrays)


# ================================================================================================================
# DDPM

DDPM_SCOPE = 'model'
EMA = 'ExponentialMovingAverage'
DDPM_SLOTS = [EMA, 'Adam', 'Adam_1']


def ddpm_upstream_variables(ch, ch_mult, num_res_blocks, attn_res, height, in_ch, out_ch):
    """(name, TF shape) of every variable unet.model(name='model') creates, in creation order, from unet.py's text."""
    out = []

    def dense(scope, i, o):  # nn.dense / nn.nin
        out.extend([(scope + '/W', (i, o)), (scope + '/b', (o,))])

    def conv(scope, i, o):  # nn.conv2d, 3x3
        out.extend([(scope + '/W', (3, 3, i, o)), (scope + '/b', (o,))])

    def norm(scope, c):  # tf.contrib.layers.group_norm
        out.extend([(scope + '/gamma', (c,)), (scope + '/beta', (c,))])

    def resnet_block(scope, i, o, temb):
        norm(scope + '/norm1', i)
        conv(scope + '/conv1', i, o)
        dense(scope + '/temb_proj', temb, o)
        norm(scope + '/norm2', o)
        conv(scope + '/conv2', o, o)
        if i != o:
            dense(scope + '/nin_shortcut', i, o)

    def attn_block(scope, c):
        norm(scope + '/norm', c)
        for n in ('q', 'k', 'v', 'proj_out'):
            dense(scope + '/' + n, c, c)

    m = DDPM_SCOPE
    temb = 4 * ch
    dense(m + '/temb/dense0', ch, temb)
    dense(m + '/temb/dense1', temb, temb)
    conv(m + '/conv_in', in_ch, ch)
    hs, cur, res = [ch], ch, height
    for i, mult in enumerate(ch_mult):
        for j in range(num_res_blocks):
            resnet_block(f'{m}/down_{i}/block_{j}', cur, ch * mult, temb)
            cur = ch * mult
            if res in attn_res:
                attn_block(f'{m}/down_{i}/attn_{j}', cur)
            hs.append(cur)
        if i != len(ch_mult) - 1:
            conv(f'{m}/down_{i}/downsample/conv', cur, cur)
            hs.append(cur)
            res //= 2
    resnet_block(m + '/mid/block_1', cur, cur, temb)
    attn_block(m + '/mid/attn_1', cur)
    resnet_block(m + '/mid/block_2', cur, cur, temb)
    for i in reversed(range(len(ch_mult))):
        for j in range(num_res_blocks + 1):
            resnet_block(f'{m}/up_{i}/block_{j}', cur + hs.pop(), ch * ch_mult[i], temb)
            cur = ch * ch_mult[i]
            if res in attn_res:
                attn_block(f'{m}/up_{i}/attn_{j}', cur)
        if i != 0:
            conv(f'{m}/up_{i}/upsample/conv', cur, cur)
            res *= 2
    assert not hs
    norm(m + '/norm_out', cur)
    conv(m + '/conv_out', cur, out_ch)
    return out


def ddpm_module_to_tf1(peer, model):
    """{TF1 name: float32 array in TF layout} of a ddpm_torch.UNet, from its module tree (not from the list above)."""
    modules = dict(model.named_modules())
    out = {}
    for name, p in model.named_parameters():
        owner_name, leaf = name.rsplit('.', 1)
        owner = modules[owner_name]
        a = p.detach().to(torch.float64).numpy()
        if isinstance(owner, peer.Conv):
            assert leaf in ('weight', 'bias')
            leaf = 'W' if leaf == 'weight' else 'b'
            a = a.transpose(2, 3, 1, 0) if leaf == 'W' else a  # OIHW -> HWIO
        elif isinstance(owner, (peer.Dense, peer.Nin)):
            leaf = 'W' if leaf == 'weight' else 'b'
            a = a.T if leaf == 'W' else a  # [out, in] -> [in, out]
        else:
            assert isinstance(owner, peer.GroupNorm) and leaf in ('gamma', 'beta'), name
        path = re.sub(r'\b(down|up|block|attn)\.(\d+)', r'\1_\2', owner_name).replace('.', '/')
        out[f'{DDPM_SCOPE}/{path}/{leaf}'] = np.ascontiguousarray(a.astype(np.float32))
    return out


def ddpm_fixture(out_dir):
    peer = load_module('ddpm_torch', repo_file('tools', 'src', 'main', 'resources', 'dev', 'genzoo', 'tools', 'bench',
                                               'ddpm_torch.py'))
    ch, ch_mult, blocks, attn_res, groups = 4, (1, 2), 1, (4,), 2
    h, w, c = 8, 8, 3
    peer.NUM_GROUPS = groups  # the port's GroupNorm and numpy reference read this module global
    torch.manual_seed(0)
    model = peer.UNet(ch, ch_mult, blocks, attn_res, 0.1, (h, w), c, 0)
    model.eval()

    listed = ddpm_upstream_variables(ch, ch_mult, blocks, attn_res, h, c, c)
    peer.fixture_init(model, torch.Generator().manual_seed(11))
    raw = ddpm_module_to_tf1(peer, model)
    assert len(listed) == len(raw) and set(n for n, _ in listed) == set(raw), \
        'module names differ from unet.py: ' + str(sorted(set(n for n, _ in listed) ^ set(raw)))
    assert all(tuple(raw[n].shape) == s for n, s in listed)
    peer.fixture_init(model, torch.Generator().manual_seed(12))
    ema = ddpm_module_to_tf1(peer, model)

    g = torch.Generator().manual_seed(13)
    x = torch.randn(4, h, w, c, generator=g).numpy().astype(np.float32)
    t = np.array([0, 17, 500, 999], dtype=np.int32)

    def eps_of(params):
        m64 = peer.UNet(ch, ch_mult, blocks, attn_res, 0.1, (h, w), c, 0).double().eval()
        with torch.no_grad():
            for name, p in m64.named_parameters():  # load the TF1 tensors back, inverting the layouts
                owner, leaf = name.rsplit('.', 1)
                path = re.sub(r'\b(down|up|block|attn)\.(\d+)', r'\1_\2', owner).replace('.', '/')
                key = f'{DDPM_SCOPE}/{path}/' + {'weight': 'W', 'bias': 'b'}.get(leaf, leaf)
                a = torch.from_numpy(params[key].astype(np.float64))
                if leaf == 'weight':
                    a = a.permute(3, 2, 0, 1) if a.dim() == 4 else a.t()
                p.copy_(a)
            out = m64(torch.from_numpy(x).double().permute(0, 3, 1, 2), torch.from_numpy(t).long())
        eps = out.permute(0, 2, 3, 1).numpy()
        # the port's own float64 NHWC numpy reference, fed with the genzoo-named export of the same module
        ref = peer.numpy_reference({k: v.astype(np.float64) for k, v in m64.float().export_tf().items()},
                                   x.astype(np.float64), t, None, ch, ch_mult, blocks, attn_res)
        err = float(np.abs(eps - ref).max())
        assert err < 1e-5, f'torch and numpy references disagree: {err}'
        return eps

    eps = eps_of(ema)
    eps_raw = eps_of(raw)
    gap = float(np.abs(eps - eps_raw).max())
    assert gap > 0.05, 'EMA and raw weights should give clearly different outputs'

    arrays = {}
    for name, _ in listed:
        arrays['ckpt/' + name] = raw[name]
        arrays[f'ckpt/{name}/{EMA}'] = ema[name]
        arrays[f'ckpt/{name}/Adam'] = np.zeros_like(raw[name])
        arrays[f'ckpt/{name}/Adam_1'] = np.zeros_like(raw[name])
    step = 790000
    arrays['ckpt/beta1_power'] = np.array(0.9 ** step, dtype=np.float32)
    arrays['ckpt/beta2_power'] = np.array(0.999 ** step, dtype=np.float32)
    arrays['ckpt/global_step'] = np.array(step, dtype=np.int64)
    arrays['input/x'] = x
    arrays['input/t'] = t
    arrays['output/eps'] = eps.astype(np.float32)
    arrays['output/eps_raw'] = eps_raw.astype(np.float32)
    arrays['meta/ch'] = np.array(ch, dtype=np.int32)
    arrays['meta/ch_mult'] = np.array(ch_mult, dtype=np.int32)
    arrays['meta/num_res_blocks'] = np.array(blocks, dtype=np.int32)
    arrays['meta/attn_res'] = np.array(attn_res, dtype=np.int32)
    arrays['meta/groups'] = np.array(groups, dtype=np.int32)
    arrays['meta/image_shape'] = np.array((h, w, c), dtype=np.int32)
    path = os.path.join(out_dir, 'ddpm_tf1_tiny.npz')
    save_npz(path, arrays)
    n_params = sum(int(np.prod(s)) for _, s in listed)
    print(f'{os.path.basename(path)}: {len(listed)} variables ({n_params} parameters), {len(arrays)} arrays, '
          f'|eps| max {np.abs(eps).max():.3f}, EMA vs raw max gap {gap:.3f}')

    # The released CIFAR-10 model: names and shapes from the full-size port, checked against unet.py's list.
    peer.NUM_GROUPS = 32
    full = peer.UNet(128, (1, 2, 2, 2), 2, (16,), 0.1, (32, 32), 3, 0)
    shapes = {}
    modules = dict(full.named_modules())
    for name, p in full.named_parameters():
        owner, leaf = name.rsplit('.', 1)
        path_ = re.sub(r'\b(down|up|block|attn)\.(\d+)', r'\1_\2', owner).replace('.', '/')
        s = tuple(p.shape)
        if leaf == 'weight':
            s = (s[2], s[3], s[1], s[0]) if isinstance(modules[owner], peer.Conv) else (s[1], s[0])
        shapes[f'{DDPM_SCOPE}/{path_}/' + {'weight': 'W', 'bias': 'b'}.get(leaf, leaf)] = s
    listed_full = ddpm_upstream_variables(128, (1, 2, 2, 2), 2, (16,), 32, 3, 3)
    assert len(listed_full) == len(shapes) and all(shapes.get(n) == s for n, s in listed_full)
    count = sum(int(np.prod(s)) for s in shapes.values())
    assert count == 35746307, count  # the released checkpoint's parameter count
    doc = {
        'about': 'Variables of the official DDPM CIFAR-10 checkpoint (diffusion_cifar10_model/model.ckpt-790000) '
                 'under their TF1 names with TF shapes; every variable V also has V/<suffix> for each slot suffix.',
        'param_count': count,
        'variables': [[n, list(s)] for n, s in listed_full],
        'slot_suffixes': DDPM_SLOTS,
        'other_tensors': [['beta1_power', 'F32', []], ['beta2_power', 'F32', []], ['global_step', 'I64', []]],
    }
    path = os.path.join(out_dir, 'ddpm_cifar10_upstream.json')
    with open(path, 'w') as f:
        json.dump(doc, f, indent=0)
        f.write('\n')
    print(f'{os.path.basename(path)}: {len(shapes)} variables, {count} parameters')


# ================================================================================================================
# IGEBM

EBM_SCOPE = 'context_0'
SLOPE = 0.2
SN_EPS = 1e-12


def ebm_blocks(f):
    """ResNet32Large's residual blocks: (name, in, out, downsample), from models.py's construct_weights/forward."""
    return [('res_optim', f, f, True), ('res_1', f, f, False), ('res_2', f, f, False),
            ('res_3', f, 2 * f, True), ('res_4', 2 * f, 2 * f, False), ('res_5', 2 * f, 2 * f, False),
            ('res_6', 2 * f, 4 * f, True), ('res_7', 4 * f, 4 * f, False), ('res_8', 4 * f, 4 * f, False)]


def ebm_upstream_variables(f, c):
    """(name, shape, trainable) of every variable ResNet32Large.construct_weights('context_0') creates (classes 1)."""
    out = []

    def conv(scope, k, i, o):  # init_conv_weight with spec_norm
        s = f'{EBM_SCOPE}/{scope}/'
        out.extend([(s + 'cweight', (k, k, i, o), True), (s + 'c_u', (1, o), False), (s + 'b', (o,), True),
                    (s + 'g', (o,), True), (s + 'gb', (i,), True), (s + 'cb', (i,), True)])

    conv('c1_pre', 3, c, f)
    for name, i, o, _ in ebm_blocks(f):
        conv(name + '_res_c1', 3, i, o)
        conv(name + '_res_c2', 3, o, o)
        if i != o:
            conv(name + '_res_adaptive', 3, i, o)
    out.extend([(f'{EBM_SCOPE}/fc5/wweight', (4 * f, 1), True), (f'{EBM_SCOPE}/fc5/b', (1,), True)])
    a, k = 2 * f, f  # init_attention_weight(weights, 'atten', 2F, F)
    s = f'{EBM_SCOPE}/atten/'
    for n, width in (('q', k), ('k', k), ('v', a)):
        out.extend([(s + f'atten_{n}weight', (1, 1, a, width), True), (s + f'atten_{n}_u', (1, width), False),
                    (s + f'atten_{n}_b1', (width,), True)])
    out.append((s + 'gamma', (1,), True))
    return out


def l2n(a):
    return a / torch.sqrt(torch.clamp((a * a).sum(), min=SN_EPS))


def sn_kernel(w, u_row, iterate, lower_bound):
    """utils.spectral_normed_weight on an HWIO kernel w with the row vector u [1, out]."""
    out = w.shape[-1]
    mat = w.reshape(-1, out)
    if iterate:  # the authors' forward
        v = l2n(u_row @ mat.t())
        u_hat = l2n(v @ mat)
        sigma = (v @ mat @ u_hat.t()).reshape(())
    else:  # genzoo's inference: the stored u
        v = l2n(u_row @ mat.t())
        sigma = (v @ mat @ u_row.t()).reshape(())
    if lower_bound:
        s = sigma + 1e-6
        return w / s * torch.clamp(s, max=1.0)
    return w / sigma


def ebm_energy(p, x_nhwc, f, iterate):
    """ResNet32Large.forward (unconditional, no attention) on TF1-named parameters p; x NHWC in [0, 1]."""
    def conv(x, scope, lower_bound=False):
        w = sn_kernel(p[f'{EBM_SCOPE}/{scope}/cweight'], p[f'{EBM_SCOPE}/{scope}/c_u'], iterate, lower_bound)
        return F.conv2d(x, w.permute(3, 2, 0, 1), padding=1)

    def vec(name):
        return p[f'{EBM_SCOPE}/{name}'].view(1, -1, 1, 1)

    h = F.leaky_relu(conv(x_nhwc.permute(0, 3, 1, 2), 'c1_pre'), SLOPE)
    for name, i, o, down in ebm_blocks(f):
        c1 = F.leaky_relu(conv(h + vec(name + '_res_c1/gb'), name + '_res_c1'), SLOPE)
        c2 = conv(c1 + vec(name + '_res_c2/gb'), name + '_res_c2', lower_bound=True) * vec(name + '_res_c2/g')
        r = c2 + (conv(h, name + '_res_adaptive') if i != o else h)
        if down:
            r = F.avg_pool2d(r, 2)
        h = F.leaky_relu(r, SLOPE)
    pooled = F.relu(h).sum(dim=(2, 3))
    return (pooled @ p[f'{EBM_SCOPE}/fc5/wweight'] + p[f'{EBM_SCOPE}/fc5/b']).reshape(-1)


def ebm_fixture(out_dir):
    f, (h, w, c), batch = 4, (8, 8, 3), 3
    g = torch.Generator().manual_seed(21)
    variables = ebm_upstream_variables(f, c)
    small = {f'{EBM_SCOPE}/{b[0]}_res_c2/cweight' for b in ebm_blocks(f)[::2]}
    p = {}
    for name, shape, _ in variables:
        leaf = name.rsplit('/', 1)[1]
        if name.endswith('_u'):
            p[name] = l2n(torch.randn(shape, generator=g))
        elif name in small:
            p[name] = torch.randn(shape, generator=g) * 0.02
        elif name.endswith('_res_c2/cweight'):
            p[name] = torch.randn(shape, generator=g) * 0.3
        elif name == f'{EBM_SCOPE}/atten/gamma':
            p[name] = torch.zeros(shape)  # attention never ran: its gain keeps its initial 0
        elif leaf == 'g':
            p[name] = 1 + 0.2 * torch.randn(shape, generator=g)
        elif leaf in ('gb', 'b', 'cb') or leaf.endswith('_b1'):
            p[name] = 0.1 * torch.randn(shape, generator=g)
        else:
            p[name] = torch.randn(shape, generator=g)
    p = {k: v.float().double() for k, v in p.items()}
    x = torch.rand(batch, h, w, c, generator=g).float().double()
    with torch.no_grad():
        energy = ebm_energy(p, x, f, iterate=False)
        energy_authors = ebm_energy(p, x, f, iterate=True)

    # both branches of the lower-bound spectral norm occur
    norms = [float(torch.linalg.matrix_norm(p[k].reshape(-1, p[k].shape[-1]), 2)) for k in p
             if k.endswith('_res_c2/cweight')]
    assert 0 < sum(1 for n in norms if n > 1) < len(norms)

    # cross-check against graphs' port (genzoo names, u as [out]); the name table here is only for this check
    other = load_module('ebm_graphs_fixtures', repo_file('graphs', 'src', 'test', 'resources', 'dev', 'genzoo',
                                                         'graphs', 'ebm', 'make_fixtures.py'))
    gz = {}
    for name, shape, _ in variables:
        rel = name[len(EBM_SCOPE) + 1:]
        m = re.fullmatch(r'(\w+?)_res_(c1|c2|adaptive)/(cweight|c_u|gb|g)', rel)
        if rel.startswith('c1_pre/') and rel.split('/')[1] in ('cweight', 'c_u'):
            gz[other.SCOPE + '/c1_pre/' + ('kernel' if rel.endswith('cweight') else 'kernel_u')] = p[name]
        elif m:
            part = {'c1': 'conv_1', 'c2': 'conv_2', 'adaptive': 'shortcut'}[m.group(2)]
            leaf = {'cweight': 'kernel', 'c_u': 'kernel_u', 'gb': 'input_bias', 'g': 'gain'}[m.group(3)]
            gz[f'{other.SCOPE}/{m.group(1)}/{part}/{leaf}'] = p[name]
        elif rel == 'fc5/wweight':
            gz[other.SCOPE + '/fc5/kernel'] = p[name]
        elif rel == 'fc5/b':
            gz[other.SCOPE + '/fc5/bias'] = p[name]
    gz = {k: (v.reshape(-1) if k.endswith('_u') else v) for k, v in gz.items() if k in other.shapes(f, c)}
    assert set(gz) == set(other.shapes(f, c))
    with torch.no_grad():
        e_other = other.energy(gz, x, f, False)
    err = float((e_other - energy).abs().max())
    assert err < 1e-10, f'graphs port disagrees: {err}'

    arrays = {}
    for name, _, trainable in variables:
        arrays['ckpt/' + name] = p[name].numpy().astype(np.float32)
        if trainable:
            arrays[f'ckpt/{name}/Adam'] = np.zeros(p[name].shape, dtype=np.float32)
            arrays[f'ckpt/{name}/Adam_1'] = np.zeros(p[name].shape, dtype=np.float32)
    arrays['ckpt/beta1_power'] = np.array(0.0, dtype=np.float32)  # beta1 = 0
    arrays['ckpt/beta2_power'] = np.array(0.999 ** 20000, dtype=np.float32)
    arrays['input/x'] = x.numpy().astype(np.float32)
    arrays['output/energy'] = energy.numpy().astype(np.float32)
    arrays['output/energy_authors'] = energy_authors.numpy().astype(np.float32)
    arrays['meta/filters'] = np.array(f, dtype=np.int32)
    arrays['meta/image_shape'] = np.array((h, w, c), dtype=np.int32)
    path = os.path.join(out_dir, 'igebm_tf1_tiny.npz')
    save_npz(path, arrays)
    print(f'{os.path.basename(path)}: {len(variables)} variables, {len(arrays)} arrays, energies '
          f'{np.round(energy.numpy(), 4)} (authors\' forward {np.round(energy_authors.numpy(), 4)})')

    full = ebm_upstream_variables(128, 3)
    trainable = sum(int(np.prod(s)) for _, s, t in full if t)
    assert trainable == other.upstream_variable_count(128, 3), (trainable, other.upstream_variable_count(128, 3))
    doc = {
        'about': 'Variables of IGEBM\'s ResNet32Large (F = 128, 32x32x3, unconditional) as train.py creates them '
                 'under context_0, with TF shapes; every trainable variable V also has V/<suffix> for each slot '
                 'suffix.',
        'trainable_param_count': trainable,
        'variables': [[n, list(s), t] for n, s, t in full],
        'slot_suffixes': ['Adam', 'Adam_1'],
        'other_tensors': [['beta1_power', 'F32', []], ['beta2_power', 'F32', []]],
    }
    path = os.path.join(out_dir, 'igebm_cifar10_upstream.json')
    with open(path, 'w') as fh:
        json.dump(doc, fh, indent=0)
        fh.write('\n')
    print(f'{os.path.basename(path)}: {len(full)} variables, {trainable} trainable parameters')


def main():
    out_dir = sys.argv[1] if len(sys.argv) > 1 else HERE
    torch.set_num_threads(2)
    os.makedirs(out_dir, exist_ok=True)
    ddpm_fixture(out_dir)
    ebm_fixture(out_dir)


if __name__ == '__main__':
    main()
