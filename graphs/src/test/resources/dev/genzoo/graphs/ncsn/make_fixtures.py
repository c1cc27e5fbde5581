#!/usr/bin/env python3
"""Reference outputs of the NCSN score networks for dev.genzoo.graphs.ncsn.RefineNetTest.

A PyTorch reimplementation of the two official networks, written from the authors' code with the same module names,
so that state_dict keys equal theirs (the classes live in the NCSN benchmark's PyTorch peer, tools' bench/ncsn_torch.py,
and are loaded from there):

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
from types import SimpleNamespace

import numpy as np
import torch

# ----------------------------------------------------------------------------------------------------------------------
# The networks: the classes of the PyTorch peer of genzoo's NCSN benchmark (tools' bench/ncsn_torch.py), so that
# genzoo's RefineNet is tested against the very modules its speed is compared with.


def _load_peer():
    import importlib.util
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), *([os.pardir] * 8))
    path = os.path.join(root, 'tools', 'src', 'main', 'resources', 'dev', 'genzoo', 'tools', 'bench', 'ncsn_torch.py')
    spec = importlib.util.spec_from_file_location('ncsn_torch', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_peer = _load_peer()
InstanceNorm2dPlus = _peer.InstanceNorm2dPlus
ConditionalInstanceNorm2dPlus = _peer.ConditionalInstanceNorm2dPlus
conv3x3 = _peer.conv3x3
dilated_conv3x3 = _peer.dilated_conv3x3
ConvMeanPool = _peer.ConvMeanPool
ResidualBlock = _peer.ResidualBlock
CRPBlock = _peer.CRPBlock
RCUBlock = _peer.RCUBlock
MSFBlock = _peer.MSFBlock
RefineBlock = _peer.RefineBlock
CondCRPBlock = _peer.CondCRPBlock
CondRCUBlock = _peer.CondRCUBlock
CondMSFBlock = _peer.CondMSFBlock
CondRefineBlock = _peer.CondRefineBlock
NCSNv2 = _peer.NCSNv2
CondRefineNetDilated = _peer.CondRefineNetDilated


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
