#!/usr/bin/python3
"""Writes the PyTorch checkpoint and pickle fixtures of TorchCheckpointTest and UnpicklerTest.

Run from this folder with Debian's /usr/bin/python3 (torch 1.13 and numpy):
    /usr/bin/python3 make_torch_fixtures.py

Checkpoints written by torch.save itself, each in the zip format (torch >= 1.6) and in the legacy format
(`_use_new_zipfile_serialization=False`), with the expected tensors in an .npz written by numpy from the same tensors
(`.contiguous().numpy()`, bfloat16 as float32); the names in the .npz are the dotted paths genzoo should give them:

torch_tensors.pt / torch_tensors_legacy.pt / torch_tensors.npz
    {'model': state_dict of Conv2d/BatchNorm2d/Linear (after one training step of the batch norm, so the running
    statistics and num_batches_tracked are not their initial values), float16/bfloat16/float64/int32/int16/int8/bool/
    uint8 tensors, a 0-d scalar, non-contiguous views (a transposed matrix, an NHWC permutation, a strided slice with
    an offset), two views of one storage at different offsets, an nn.Parameter, an empty tensor, one tensor stored
    twice (tied), torch.Size, a dtype, and plain str/int/float/bool/None values}
torch_ncsnv2.pt / torch_ncsnv2_legacy.pt / torch_ncsnv2.npz
    NCSNv2's checkpoint list [DataParallel state_dict ('module.' prefix), Adam state_dict after one step, epoch 5,
    step 1000, EMA shadow dict]
torch_nvae.pt / torch_nvae_legacy.pt / torch_nvae.npz
    NVAE's checkpoint dict {'epoch': 3, 'state_dict': ..., 'global_step': 120, 'args': argparse.Namespace(...),
    'arch_instance': {...}, 'grad_scalar': {...}}

Pickles assembled here opcode by opcode (never by pickling a live object that would run code when loaded):

pickle_os_system.pkl            protocol 2: GLOBAL 'os system' + REDUCE(('touch <marker>',))
pickle_builtins_eval.pkl        protocol 0 text: GLOBAL '__builtin__ eval' + REDUCE of code that shells out
pickle_popen_stack_global.pkl   protocol 4: 'subprocess' 'Popen' STACK_GLOBAL + REDUCE((['touch', <marker>],))
torch_handmade.pt               a copy of torch_small.pt (written by torch.save) whose data.pkl is rebuilt by hand:
                                {'weight': <the same tensor>, 'extra': {'hooks': [1, 42]}}; torch.load reads it
torch_malicious.pt              the same, with 42 replaced by GLOBAL 'posix system' + REDUCE(('touch <marker>',))
torch_v3_uint16.pt              a hand-made zip as torch >= 2.3 writes uint16 tensors: _rebuild_tensor_v3 with an
                                UntypedStorage and the dtype torch.uint16 ([[1, 2], [65535, 300]])
torch_big_endian.pt             a hand-made zip with byteorder 'big' (torch >= 2.1 records it): 'f' float32
                                [[1.5, -2], [3.25, 0.001]] and 'l' int64 [-8, 2**40] (a view at offset 1 of [7, -8, 2**40])
torch_bad_stride.pt             torch_small.pt with data.pkl rebuilt by hand so that 'weight' (size (2, 3), stride
                                (3, 1), offset 1) reaches element 6 of its 6-element storage
torch_missing_storage.pt        torch_small.pt without its data/0 entry
torch_short_storage.pt          torch_small.pt with data/0 cut to 8 of its 24 bytes
torch_truncated.pt              the first 60% of torch_small.pt's bytes

Plain-data pickles written by Python's pickle (benign objects only):

pickle_data_p{0..5}.pkl         DATA below in protocols 0 to 5
pickle_ordereddict_p2.pkl       an OrderedDict with a `_metadata` attribute (trailing BUILD), as state dicts carry
pickle_namespace_p{2,4}.pkl     argparse.Namespace(lr=0.01, name='nvae', layers=[1, 2], flag=True)
pickle_numpy_p{2,4}.pkl         numpy scalars and small arrays (see NUMPY below)
"""
import argparse
import collections
import io
import os
import pickle
import pickletools
import struct
import zipfile

import numpy as np
import torch
import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))
MARKER_OS = "/tmp/genzoo-pickle-marker-os-system"
MARKER_EVAL = "/tmp/genzoo-pickle-marker-eval"
MARKER_POPEN = "/tmp/genzoo-pickle-marker-popen"
MARKER_TORCH = "/tmp/genzoo-pickle-marker-torch-zip"


def path(name):
    return os.path.join(HERE, name)


def expected_array(t):
    if t.dtype == torch.bfloat16:
        t = t.float()
    return t.detach().contiguous().numpy()


def flatten(obj, prefix, out):
    """The tensors of obj by dotted path, the way genzoo names them."""
    if isinstance(obj, torch.Tensor):
        out[prefix] = expected_array(obj)
    elif isinstance(obj, dict):
        for k, v in obj.items():
            flatten(v, f"{prefix}.{k}" if prefix else str(k), out)
    elif isinstance(obj, (list, tuple)) and not isinstance(obj, torch.Size):
        for i, v in enumerate(obj):
            flatten(v, f"{prefix}.{i}" if prefix else str(i), out)
    elif isinstance(obj, argparse.Namespace):
        flatten(vars(obj), prefix, out)
    return out


def save_all(name, obj):
    torch.save(obj, path(name + ".pt"))
    torch.save(obj, path(name + "_legacy.pt"), _use_new_zipfile_serialization=False)
    np.savez(path(name + ".npz"), **flatten(obj, "", {}))
    for suffix in (".pt", "_legacy.pt"):  # torch reads back what it wrote
        back = torch.load(path(name + suffix))
        assert flatten(back, "", {}).keys() == flatten(obj, "", {}).keys()


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(2, 3, 3, padding=1)
        self.bn = nn.BatchNorm2d(3)
        self.fc = nn.Linear(12, 4)

    def forward(self, x):
        return self.fc(self.bn(self.conv(x)).flatten(1))


def tensors_fixture():
    torch.manual_seed(0)
    net = Net()
    net.train()
    net(torch.randn(4, 2, 2, 2)).sum().backward()  # updates running_mean/var, num_batches_tracked = 1
    net.eval()
    base = torch.arange(12, dtype=torch.float32).reshape(3, 4)
    grid = torch.arange(20, dtype=torch.float32).reshape(4, 5) * 0.5
    shared = torch.arange(10, dtype=torch.int64) * 7 - 20
    nchw = torch.randn(2, 3, 4, 5)
    tied = torch.randn(2)
    obj = {
        "model": net.state_dict(),
        "f16": torch.randn(2, 3).half(),
        "bf16": torch.tensor([1.5, -2.25, 3.0e10, 1e-3]).to(torch.bfloat16),
        "f64": torch.randn(2, 2, dtype=torch.float64),
        "i32": torch.tensor([-3, 0, 2 ** 31 - 1], dtype=torch.int32),
        "i16": torch.tensor([-32768, 1, 32767], dtype=torch.int16),
        "i8": torch.tensor([-128, 5, 127], dtype=torch.int8),
        "bool": torch.tensor([True, False, True]),
        "u8": torch.arange(250, 256, dtype=torch.uint8),
        "scalar": torch.tensor(2.5),
        "transposed": base.t(),
        "nhwc": nchw.permute(0, 2, 3, 1),
        "strided": grid[1:, ::2],
        "shared_a": shared[1:4],
        "shared_b": shared[5:],
        "param": nn.Parameter(torch.randn(2, 2)),
        "empty": torch.zeros(0, 3),
        "tied": [tied, tied],
        "size": torch.Size([2, 3]),
        "dtype": torch.float16,
        "note": "hello",
        "count": 7,
        "ratio": 0.5,
        "flag": True,
        "nothing": None,
    }
    assert not obj["transposed"].is_contiguous() and not obj["nhwc"].is_contiguous()
    assert obj["strided"].storage_offset() == 5 and obj["strided"].stride() == (5, 2)
    assert obj["shared_a"].storage().data_ptr() == obj["shared_b"].storage().data_ptr()
    save_all("torch_tensors", obj)


class Score(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 2, 3)
        self.norm = nn.InstanceNorm2d(2, affine=True)

    def forward(self, x):
        return self.norm(self.conv(x))


def ncsnv2_fixture():
    torch.manual_seed(1)
    model = nn.DataParallel(Score())
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
                           amsgrad=False)
    model(torch.randn(2, 1, 4, 4)).pow(2).mean().backward()
    opt.step()
    ema = {name: p.data.clone() * 0.5 for name, p in model.named_parameters()}
    states = [model.state_dict(), opt.state_dict(), 5, 1000, ema]
    save_all("torch_ncsnv2", states)


class Stem(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv_0 = nn.Conv2d(1, 4, 3, padding=1)


class Nvae(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = Stem()
        self.prior_ftr0 = nn.Parameter(torch.randn(4, 2, 2))


def nvae_fixture():
    torch.manual_seed(2)
    model = Nvae()
    args = argparse.Namespace(dataset="mnist", num_channels_enc=8, num_latent_scales=1, learning_rate=0.01,
                              use_se=True, arch_instance="res_mbconv", save="/tmp/nvae-run", weight_decay_norm=None)
    checkpoint = {
        "epoch": 3,
        "state_dict": model.state_dict(),
        "global_step": 120,
        "args": args,
        "arch_instance": {"normal_enc": ["res_bnswish", "res_bnswish"], "up_pre": ["mconv_e3k5g0"]},
        "grad_scalar": {"scale": 65536.0, "growth_factor": 2.0, "_growth_tracker": 0},
    }
    save_all("torch_nvae", checkpoint)


# ---- hand-assembled pickles ---------------------------------------------------------------------------------------

def op_proto(n):
    return b"\x80" + bytes([n])


def op_global(module, name):
    return b"c" + module.encode() + b"\n" + name.encode() + b"\n"


def op_unicode(s):
    b = s.encode("utf-8")
    return b"X" + struct.pack("<I", len(b)) + b


def op_short_unicode(s):
    b = s.encode("utf-8")
    return b"\x8c" + bytes([len(b)]) + b


def op_int(n):
    return b"J" + struct.pack("<i", n)


MARK, STOP, TUPLE, TUPLE1, REDUCE, EMPTY_DICT, EMPTY_LIST, EMPTY_TUPLE = b"(", b".", b"t", b"\x85", b"R", b"}", b"]", b")"
SETITEMS, SETITEM, APPENDS, NEWFALSE, BINPERSID = b"u", b"s", b"e", b"\x89", b"Q"


def check_parses(data):
    """pickletools only decodes opcodes; it never imports or calls anything."""
    pickletools.dis(data, out=io.StringIO())


def write(name, data):
    check_parses(data)
    with open(path(name), "wb") as f:
        f.write(data)


def system_call(module, command):
    return op_global(module, "system") + op_unicode(command) + TUPLE1 + REDUCE


def malicious_pickles():
    write("pickle_os_system.pkl", op_proto(2) + system_call("os", "touch " + MARKER_OS) + STOP)
    code = "__import__('os').system('touch %s')" % MARKER_EVAL
    write("pickle_builtins_eval.pkl", b"c__builtin__\neval\n(V" + code.encode() + b"\ntR.")
    body = (op_short_unicode("subprocess") + b"\x94" + op_short_unicode("Popen") + b"\x94" + b"\x93"
            + EMPTY_LIST + MARK + op_short_unicode("touch") + op_short_unicode(MARKER_POPEN) + APPENDS
            + TUPLE1 + REDUCE + STOP)
    write("pickle_popen_stack_global.pkl", op_proto(4) + b"\x95" + struct.pack("<Q", len(body)) + body)


def rebuild_v2(storage_type, key, numel, offset, size, stride):
    persid = MARK + op_unicode("storage") + op_global("torch", storage_type) + op_unicode(key) + op_unicode("cpu") \
        + op_int(numel) + TUPLE + BINPERSID
    hooks = op_global("collections", "OrderedDict") + EMPTY_TUPLE + REDUCE
    ints = lambda xs: MARK + b"".join(op_int(x) for x in xs) + TUPLE
    return (op_global("torch._utils", "_rebuild_tensor_v2") + MARK + persid + op_int(offset) + ints(size)
            + ints(stride) + NEWFALSE + hooks + TUPLE + REDUCE)


def handmade_pickle(nested):
    weight = rebuild_v2("FloatStorage", "0", 6, 0, (2, 3), (3, 1))
    extra = EMPTY_DICT + op_unicode("hooks") + EMPTY_LIST + MARK + op_int(1) + nested + APPENDS + SETITEM
    return (op_proto(2) + EMPTY_DICT + MARK + op_unicode("weight") + weight + op_unicode("extra") + extra
            + SETITEMS + STOP)


def copy_zip(src, dst, replace=None, drop=(), extra=None):
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_STORED) as zout:
        for info in zin.infolist():
            if any(info.filename.endswith(d) for d in drop):
                continue
            data = zin.read(info.filename)
            for suffix, new in (replace or {}).items():
                if info.filename.endswith(suffix):
                    data = new
            zout.writestr(info.filename, data)


def torch_zips():
    small = path("torch_small.pt")
    torch.save({"weight": torch.arange(6, dtype=torch.float32).reshape(2, 3) * 0.25}, small)
    copy_zip(small, path("torch_handmade.pt"), {"/data.pkl": handmade_pickle(op_int(42))})
    back = torch.load(path("torch_handmade.pt"), weights_only=True)  # torch's own restricted loader accepts it
    assert back["extra"] == {"hooks": [1, 42]} and torch.equal(back["weight"], torch.arange(6.).reshape(2, 3) * 0.25)
    evil = handmade_pickle(system_call("posix", "touch " + MARKER_TORCH))
    check_parses(evil)
    copy_zip(small, path("torch_malicious.pt"), {"/data.pkl": evil})
    copy_zip(small, path("torch_missing_storage.pt"), drop=("/data/0",))
    with zipfile.ZipFile(small) as z:
        storage = z.read("torch_small/data/0")
        whole = open(small, "rb").read()
    copy_zip(small, path("torch_short_storage.pt"), {"/data/0": storage[:8]})
    with open(path("torch_truncated.pt"), "wb") as f:
        f.write(whole[: len(whole) * 6 // 10])

    bad = op_proto(2) + EMPTY_DICT + op_unicode("weight") + rebuild_v2("FloatStorage", "0", 6, 1, (2, 3), (3, 1)) \
        + SETITEM + STOP
    check_parses(bad)
    copy_zip(small, path("torch_bad_stride.pt"), {"/data.pkl": bad})

    big = (op_proto(2) + EMPTY_DICT + MARK + op_unicode("f") + rebuild_v2("FloatStorage", "0", 4, 0, (2, 2), (2, 1))
           + op_unicode("l") + rebuild_v2("LongStorage", "1", 3, 1, (2,), (1,)) + SETITEMS + STOP)
    check_parses(big)
    with zipfile.ZipFile(path("torch_big_endian.pt"), "w", zipfile.ZIP_STORED) as z:
        z.writestr("torch_big_endian/data.pkl", big)
        z.writestr("torch_big_endian/byteorder", "big")
        z.writestr("torch_big_endian/data/0", np.array([1.5, -2.0, 3.25, 0.001], dtype=">f4").tobytes())
        z.writestr("torch_big_endian/data/1", np.array([7, -8, 2 ** 40], dtype=">i8").tobytes())
        z.writestr("torch_big_endian/version", "3\n")

    v3 = (op_proto(2) + EMPTY_DICT + op_unicode("u16") + op_global("torch._utils", "_rebuild_tensor_v3") + MARK
          + MARK + op_unicode("storage") + op_global("torch", "UntypedStorage") + op_unicode("0") + op_unicode("cpu")
          + op_int(8) + TUPLE + BINPERSID + op_int(0) + MARK + op_int(2) + op_int(2) + TUPLE + MARK + op_int(2)
          + op_int(1) + TUPLE + NEWFALSE + op_global("collections", "OrderedDict") + EMPTY_TUPLE + REDUCE
          + op_global("torch", "uint16") + TUPLE + REDUCE + SETITEM + STOP)
    check_parses(v3)
    with zipfile.ZipFile(path("torch_v3_uint16.pt"), "w", zipfile.ZIP_STORED) as z:
        z.writestr("torch_v3_uint16/data.pkl", v3)
        z.writestr("torch_v3_uint16/byteorder", "little")
        z.writestr("torch_v3_uint16/data/0", np.array([1, 2, 65535, 300], dtype="<u2").tobytes())
        z.writestr("torch_v3_uint16/version", "3\n")


# ---- benign pickles written by pickle itself ----------------------------------------------------------------------

DATA = {
    "ints": [0, 1, -1, 255, 256, 65535, 65536, -2 ** 31, 2 ** 31 - 1, 2 ** 63 - 1, -2 ** 63, 2 ** 70, -(2 ** 70)],
    "floats": [0.5, -1.25e-300, 1e300, float("inf")],
    "text": ["", "plain", "caf\u00e9 \u2713 \U0001F600", "line\nbreak \\ back"],
    "bytes": b"\x00\x01\xfe\xff",
    "tuple": (1, "two", (3.0, None)),
    "empty": [(), [], {}],
    "bools": [True, False, None],
    "set": {7},
    "frozen": frozenset({"a"}),
    "nested": {"k": [{"deep": [1, [2, [3]]]}]},
    1: "int key",
    (1, 2): "tuple key",
}
SHARED = [4, 5]
DATA["shared"] = [SHARED, SHARED]


def benign_pickles():
    for protocol in range(6):
        with open(path(f"pickle_data_p{protocol}.pkl"), "wb") as f:
            pickle.dump(DATA, f, protocol=protocol)
    od = collections.OrderedDict([("b", 2), ("a", 1)])
    od._metadata = {"": {"version": 1}}
    with open(path("pickle_ordereddict_p2.pkl"), "wb") as f:
        pickle.dump(od, f, protocol=2)
    ns = argparse.Namespace(lr=0.01, name="nvae", layers=[1, 2], flag=True)
    for protocol in (2, 4):
        with open(path(f"pickle_namespace_p{protocol}.pkl"), "wb") as f:
            pickle.dump(ns, f, protocol=protocol)
    numpy_values = {
        "f64": np.float64(1.5),
        "f32": np.float32(-0.25),
        "i64": np.int64(-7),
        "u8": np.uint8(200),
        "b": np.bool_(True),
        "arr": np.arange(6, dtype="<i4").reshape(2, 3),
        "fortran": np.asfortranarray(np.arange(6, dtype="<f8").reshape(2, 3) / 4),
        "big_endian": np.array([1.0, 2.0], dtype=">f4"),
    }
    for protocol in (2, 4):
        with open(path(f"pickle_numpy_p{protocol}.pkl"), "wb") as f:
            pickle.dump(numpy_values, f, protocol=protocol)


if __name__ == "__main__":
    tensors_fixture()
    ncsnv2_fixture()
    nvae_fixture()
    malicious_pickles()
    torch_zips()
    benign_pickles()
    for m in (MARKER_OS, MARKER_EVAL, MARKER_POPEN, MARKER_TORCH):
        assert not os.path.exists(m), m
