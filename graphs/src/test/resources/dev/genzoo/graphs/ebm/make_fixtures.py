#!/usr/bin/python3
"""Reference outputs of IGEBM's ResNet32Large energy for dev.genzoo.graphs.ebm.ResNetEnergyTest.

A PyTorch port of the energy network of Du & Mordatch 2019, "Implicit Generation and Generalization in Energy-Based
Models" (arXiv:1903.08689), written from the authors' TensorFlow code (openai/ebm_code_release: models.py
ResNet32Large, utils.py init_conv_weight / init_res_weight / smart_res_block / conv_block / spectral_normed_weight),
as train.py builds it for unconditional CIFAR-10 (--large_model, FLAGS.cclass False, FLAGS.use_attention False,
FLAGS.spec_norm True, spec_iter 1, spec_norm_val 1):

  h = lrelu(conv(x, SN(c1_pre)))                         3x3, C -> F, no bias (conv_block's use_bias is False)
  9 residual blocks (name: in -> out, 2x2 average pooling after the sum where marked "down"):
      res_optim F -> F down, res_1 F -> F, res_2 F -> F, res_3 F -> 2F down, res_4 2F -> 2F, res_5 2F -> 2F,
      res_6 2F -> 4F down, res_7 4F -> 4F, res_8 4F -> 4F
  block(x): c1 = conv(x + gb1, SN(W1));  [dropout 0.5 here when the model is built with train=True]
            c2 = conv(lrelu(c1) + gb2, SN_lb(W2)) * g2
            r = c2 + (conv(x, SN(W_adaptive)) if in != out else x);  r = avgpool2(r) if down;  return lrelu(r)
  E(x) = relu(h) summed over H and W, then x W_fc5 + b_fc5   (fc5: 4F -> 1, no spectral norm)

lrelu is tf.nn.leaky_relu (slope 0.2); convolutions are 3x3, stride 1, SAME. SN(W) views the HWIO kernel as the matrix
W of shape [9 in, out] and divides it by sigma = v W u'^T after one power iteration from the stored row vector u:
v = l2n(u W^T), u' = l2n(v W) (l2n(a) = a / sqrt(max(sum a^2, 1e-12))), with u := u' recorded. SN_lb is the
"lower_bound" form used for the second convolution of every block (zero=True, initialised at N(0, 1e-10)):
s = sigma + 1e-6, W / s * min(s, 1), which only shrinks a kernel whose spectral norm exceeds 1.

Inference (genzoo's documented SpectralNorm semantics, not the authors', which always iterate): the stored u is used
as it is, v = l2n(W u), sigma = v^T W u = |W u|.

Each fixture is an .npz (numpy.savez, float32) with every parameter under its genzoo name in TensorFlow layout (conv
kernels HWIO, dense [in, out], u vectors [out]) and:
  input/x                [N, H, W, C] in [0, 1]
  output/energy_train    [N]  energies with one power iteration (the authors' forward)
  output/u_next/<name>   [out] the u' of every spectrally normalised kernel in that forward
  output/energy_eval     [N]  energies with the stored u (inference)
  output/grad_x_eval     [N, H, W, C] d(sum_n E(x_n))/dx in inference
  meta/filters, meta/image_shape, meta/param_count (the trainable parameters the network uses),
  meta/param_count_cifar10 (the same at F = 128 on 32x32x3),
  meta/upstream_variables_cifar10 (every trainable TF1 variable construct_weights creates at that size, including
      the ones the unconditional forward never reads: conv biases b, the class-conditional cb, the g of the first
      convolutions, the gb and g of c1_pre and the shortcuts, and the unused attention block; the number train.py
      prints as "Model has a total of ... parameters").
Energies and gradients are computed in float64 from the float32-rounded parameters and inputs, then rounded.

Upstream TF1 name -> genzoo name (scope context_0 -> ebm/energy; <blk> a residual block):
  context_0/c1_pre/cweight, c_u [1, F]      -> ebm/energy/c1_pre/kernel, kernel_u [F]
  context_0/<blk>_res_c1/cweight, c_u, gb   -> ebm/energy/<blk>/conv_1/kernel, kernel_u, input_bias
  context_0/<blk>_res_c2/cweight, c_u, gb, g -> ebm/energy/<blk>/conv_2/kernel, kernel_u, input_bias, gain
  context_0/<blk>_res_adaptive/cweight, c_u -> ebm/energy/<blk>/shortcut/kernel, kernel_u
  context_0/fc5/wweight, b                  -> ebm/energy/fc5/kernel, bias

Run: /usr/bin/python3 make_fixtures.py [OUT_DIR]   (deterministic for a given torch version; seconds on a CPU)
"""
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

SCOPE = 'ebm/energy'
EPS = 1e-12
SLOPE = 0.2


def blocks(f):
    """(name, in, out, down) of ResNet32Large's residual blocks with F = f filters."""
    return [('res_optim', f, f, True), ('res_1', f, f, False), ('res_2', f, f, False),
            ('res_3', f, 2 * f, True), ('res_4', 2 * f, 2 * f, False), ('res_5', 2 * f, 2 * f, False),
            ('res_6', 2 * f, 4 * f, True), ('res_7', 4 * f, 4 * f, False), ('res_8', 4 * f, 4 * f, False)]


def shapes(f, c):
    """genzoo name -> shape of every parameter (kernels, u vectors, biases, gains) of the network."""
    s = {SCOPE + '/c1_pre/kernel': (3, 3, c, f), SCOPE + '/c1_pre/kernel_u': (f,)}
    for name, i, o, _ in blocks(f):
        p = SCOPE + '/' + name
        s[p + '/conv_1/kernel'] = (3, 3, i, o)
        s[p + '/conv_1/kernel_u'] = (o,)
        s[p + '/conv_1/input_bias'] = (i,)
        s[p + '/conv_2/kernel'] = (3, 3, o, o)
        s[p + '/conv_2/kernel_u'] = (o,)
        s[p + '/conv_2/input_bias'] = (o,)
        s[p + '/conv_2/gain'] = (o,)
        if i != o:
            s[p + '/shortcut/kernel'] = (3, 3, i, o)
            s[p + '/shortcut/kernel_u'] = (o,)
    s[SCOPE + '/fc5/kernel'] = (4 * f, 1)
    s[SCOPE + '/fc5/bias'] = (1,)
    return s


def param_count(f, c):
    return sum(int(np.prod(v)) for k, v in shapes(f, c).items() if not k.endswith('_u'))


def upstream_variable_count(f, c):
    """Trainable variables of ResNet32Large.construct_weights (classes = 1), used or not."""
    def conv(k, i, o):  # cweight, b [o], g [o], gb [i], cb [i]
        return k * k * i * o + o + o + i + i
    n = conv(3, c, f)
    for _, i, o, _ in blocks(f):
        n += conv(3, i, o) + conv(3, o, o) + (conv(3, i, o) if i != o else 0)
    n += 4 * f * 1 + 1  # fc5 wweight, b
    a, k = 2 * f, f  # init_attention_weight(weights, 'atten', 2F, F): q, k [1,1,2F,F] + biases, v [1,1,2F,2F] + bias, gamma
    n += (a * k + k) * 2 + a * a + a + 1
    return n


def l2n(a):
    return a / torch.sqrt(torch.clamp((a * a).sum(), min=EPS))


def sn(w, u, iterate, lower_bound):
    """Spectral normalisation of an HWIO (or [in, out]) kernel; returns (normalised kernel, u' or None)."""
    out = w.shape[-1]
    mat = w.reshape(-1, out)
    if iterate:
        v = l2n(u.reshape(1, out) @ mat.t())            # [1, K]
        un = l2n(v @ mat)                               # [1, out]
        sigma = (v @ mat @ un.t()).reshape(())
        u_next = un.reshape(out)
    else:
        v = l2n(mat @ u.reshape(out, 1))                # [K, 1]
        sigma = (v.t() @ mat @ u.reshape(out, 1)).reshape(())
        u_next = None
    if lower_bound:
        s = sigma + 1e-6
        return w / s * torch.clamp(s, max=1.0), u_next
    return w / sigma, u_next


def conv(x, w_hwio):
    return F.conv2d(x, w_hwio.permute(3, 2, 0, 1), padding=1)


def energy(p, x_nhwc, f, iterate, u_next=None):
    """E(x) for parameters p (genzoo names); x NHWC. Collects u' into u_next when iterating."""
    def kernel(name, lower_bound=False):
        w, un = sn(p[name], p[name + '_u'], iterate, lower_bound)
        if u_next is not None and un is not None:
            u_next[name + '_u'] = un
        return w

    x = x_nhwc.permute(0, 3, 1, 2)
    h = F.leaky_relu(conv(x, kernel(SCOPE + '/c1_pre/kernel')), SLOPE)
    for name, i, o, down in blocks(f):
        b = SCOPE + '/' + name
        c1 = conv(h + p[b + '/conv_1/input_bias'].view(1, -1, 1, 1), kernel(b + '/conv_1/kernel'))
        c1 = F.leaky_relu(c1, SLOPE)
        c2 = conv(c1 + p[b + '/conv_2/input_bias'].view(1, -1, 1, 1), kernel(b + '/conv_2/kernel', True))
        c2 = c2 * p[b + '/conv_2/gain'].view(1, -1, 1, 1)
        bypass = conv(h, kernel(b + '/shortcut/kernel')) if i != o else h
        r = c2 + bypass
        if down:
            r = F.avg_pool2d(r, 2)
        h = F.leaky_relu(r, SLOPE)
    pooled = F.relu(h).sum(dim=(2, 3))
    return (pooled @ p[SCOPE + '/fc5/kernel'] + p[SCOPE + '/fc5/bias']).reshape(-1)


def fixture(path, f, image_shape, batch, seed):
    g = torch.Generator().manual_seed(seed)
    h, w, c = image_shape
    params = {}
    small = {SCOPE + '/' + b[0] + '/conv_2/kernel' for b in blocks(f)[::2]}
    for name, shape in shapes(f, c).items():
        if name.endswith('_u'):
            params[name] = l2n(torch.randn(shape, generator=g))
        elif name.endswith('/conv_2/kernel'):
            # some second convolutions with spectral norm below 1 (kept as they are), some above (shrunk)
            params[name] = torch.randn(shape, generator=g) * (0.02 if name in small else 0.3)
        elif name.endswith('/gain'):
            params[name] = 1 + 0.2 * torch.randn(shape, generator=g)
        elif name.endswith('/input_bias') or name.endswith('/bias'):
            params[name] = 0.1 * torch.randn(shape, generator=g)
        else:
            params[name] = torch.randn(shape, generator=g)
    params = {k: v.float().double() for k, v in params.items()}
    x = torch.rand(batch, h, w, c, generator=g).float().double()
    u_next = {}
    e_train = energy(params, x, f, True, u_next)
    xg = x.clone().requires_grad_(True)
    e_eval = energy(params, xg, f, False)
    (grad,) = torch.autograd.grad(e_eval.sum(), xg)
    lower = [k for k in params if k.endswith('/conv_2/kernel')]
    shrunk = sum(1 for k in lower if float(torch.linalg.matrix_norm(params[k].reshape(-1, params[k].shape[-1]), 2)) > 1)
    assert 0 < shrunk < len(lower), 'want both branches of the lower-bound spectral norm'

    arrays = {k: v.numpy().astype(np.float32) for k, v in params.items()}
    arrays['input/x'] = x.numpy().astype(np.float32)
    arrays['output/energy_train'] = e_train.detach().numpy().astype(np.float32)
    for k, v in u_next.items():
        arrays['output/u_next/' + k] = v.numpy().astype(np.float32)
    arrays['output/energy_eval'] = e_eval.detach().numpy().astype(np.float32)
    arrays['output/grad_x_eval'] = grad.numpy().astype(np.float32)
    arrays['meta/filters'] = np.array(f, dtype=np.int32)
    arrays['meta/image_shape'] = np.array(image_shape, dtype=np.int32)
    arrays['meta/param_count'] = np.array(param_count(f, c), dtype=np.int64)
    arrays['meta/param_count_cifar10'] = np.array(param_count(128, 3), dtype=np.int64)
    arrays['meta/upstream_variables_cifar10'] = np.array(upstream_variable_count(128, 3), dtype=np.int64)
    np.savez(path, **arrays)
    print('{}: {} parameters, energies {}, CIFAR-10: {} parameters used, {} upstream trainable variables'.format(
        os.path.basename(path), int(arrays['meta/param_count']), np.round(arrays['output/energy_eval'], 3),
        int(arrays['meta/param_count_cifar10']), int(arrays['meta/upstream_variables_cifar10'])))


def main():
    out_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
    torch.set_num_threads(2)
    fixture(os.path.join(out_dir, 'resnet32large_f8_16x16x3.npz'), 8, (16, 16, 3), 3, seed=1)


if __name__ == '__main__':
    main()
