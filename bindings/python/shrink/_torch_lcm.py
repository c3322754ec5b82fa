"""shrink.torch's bridge to libcompress: ONNX export of a torch module, the
map from its parameters to the ONNX initializers, and building / writing /
checking the .lcm from masks and codebooks trained in PyTorch."""
import ctypes
import os

import numpy as np
import onnx
import torch
from onnx import numpy_helper

from ._lib import LC_ERR_NOT_FOUND, Error, _P, check, fail, lib
from .model import load

OPSET = 13


def export_onnx(net, example_input, path):
    """torch.onnx export as the zoo does it: BatchNormalization kept as its
    own node (TrainingMode.PRESERVE in eval mode) and no constant folding,
    so the initializers are the torch parameters themselves."""
    was_training = net.training
    net.eval()
    try:
        with torch.no_grad():
            torch.onnx.export(net, (example_input,), path, opset_version=OPSET, input_names=["input"],
                              output_names=["output"],
                              dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}},
                              training=torch.onnx.TrainingMode.PRESERVE, do_constant_folding=False)
    finally:
        net.train(was_training)


def _key(a):
    return np.ascontiguousarray(a, dtype=np.float32).tobytes()


def initializer_map(net, onnx_path, names):
    """For each parameter name: (initializer name, transposed). The exporter
    keeps parameter names unless it rewrites the tensor (a Linear exported as
    MatMul stores W^T under an onnx:: name): then the initializer holding
    the same bits (or the transpose's) is taken."""
    g = onnx.load(onnx_path).graph
    inits = {t.name: numpy_helper.to_array(t) for t in g.initializer}
    by_bits = {}
    for k, v in inits.items():
        if v.dtype == np.float32:
            by_bits.setdefault((v.shape, _key(v)), []).append(k)
    params = dict(net.named_parameters())
    out = {}
    for n in names:
        w = params[n].detach().numpy()
        if n in inits and inits[n].shape == w.shape and np.array_equal(inits[n], w):
            out[n] = (n, False)
            continue
        hit = by_bits.get((w.shape, _key(w)))
        if hit:
            out[n] = (hit[0], False)
            continue
        if w.ndim == 2:
            hit = by_bits.get((w.T.shape, _key(w.T)))
            if hit:
                out[n] = (hit[0], True)
                continue
        raise fail(f"parameter '{n}' is not an initializer of the exported ONNX model (shared or computed weights "
                   "are not supported)")
    return out


def lcm_size(m):
    """Bytes of `m` written as .lcm (in memory)."""
    buf, n = _P(), ctypes.c_size_t()
    check(lib.lc_model_save_lcm_buffer(m.handle, None, ctypes.byref(buf), ctypes.byref(n)))
    lib.free(buf)
    return int(n.value)


def set_layer(m, init, transposed, mask, codebook, codes):
    """Stores one layer as a masked codebook (code 0 = pruned zeros)."""
    if transposed:
        mask, codes = mask.T, codes.T
    m.set_mask(init, mask)
    m.set_codebook(init, np.asarray(codebook, np.float32)[None, :], np.ascontiguousarray(codes, np.uint8))


def grid8(v):
    """`v` (float32) on the 8-bit grid the .lcm stores in one byte a value
    (libcompress's lc_grid8_round, the same float32 arithmetic): scale
    s = max|v| / 127, values round(v / s) * s (+0.0 for 0)."""
    m = v.abs().max()
    if not bool(torch.isfinite(m)) or float(m) == 0.0:
        return v
    s = m / 127
    return torch.round(v / s).to(torch.int32).to(torch.float32) * s


def round_small(net, skip, shared=None):
    """Every float parameter and buffer outside `skip` (the compressed
    weights) rounded as the .lcm stores it: the biases of the compressed
    layers to the 8-bit grid (grid8: a quarter of float32), the others
    (normalization parameters, ...) to float16; and the codebooks of
    `shared` ({name: (mask, codebook, codes)}, updated in place) to float16
    when they fit (the file stores them in 2 bytes), with the weights in
    `net` set to the rounded centroids. The caller validates the rounded
    net, so what is validated is what the file decodes to."""
    biases = {n[:-len("weight")] + "bias" for n in skip if n.endswith(".weight")}
    params = dict(net.named_parameters())
    with torch.no_grad():
        for k, v in list(params.items()) + list(net.named_buffers()):
            if k not in skip and v.dtype == torch.float32:
                v.copy_(grid8(v) if k in biases else v.half().float())
        for n, (mask, cb, codes) in (shared or {}).items():
            a = np.abs(cb)
            if not np.all((a == 0) | ((a >= 2.0 ** -14) & (a <= 65504))):
                continue  # float16 would lose bits there: kept as float32
            cb = cb.astype(np.float16).astype(np.float32)
            shared[n] = (mask, cb, codes)
            params[n].copy_(torch.from_numpy(np.where(mask, cb[codes], np.float32(0)).astype(np.float32)))


def build_lcm_model(net, example_input, shared, inits, tmp):
    """The libcompress model of `net` (exported through torch.onnx) with
    each compressed layer stored as its mask and trained codebook, marked for
    Huffman coding. `shared`: param name -> (mask bool, codebook, codes)."""
    path = os.path.join(tmp, "trained.onnx")
    export_onnx(net, example_input, path)
    m = load(path)
    for n, (mask, cb, codes) in shared.items():
        init, tr = inits[n]
        set_layer(m, init, tr, mask, cb, codes)
    m.run_pass("huffman")
    m.validate()
    return m


def state_arrays(net):
    """Every float parameter and buffer of `net` as numpy (the ONNX export
    holds exactly these)."""
    out = {}
    for k, v in list(net.named_parameters()) + list(net.named_buffers()):
        if v.dtype == torch.float32:
            out[k] = v.detach().numpy().copy()
    return out


def check_decodes(path, net, inits):
    """Loads the written .lcm back and checks that every tensor the net's
    float parameters and buffers became decodes to exactly their bits."""
    back = load(path)
    onnx_names = {init: (n, tr) for n, (init, tr) in inits.items()}
    bad = []
    for k, v in state_arrays(net).items():
        init, tr = next(((i, t) for i, (n, t) in onnx_names.items() if n == k), (k, False))
        try:
            w = back.weight(init)
        except Error as e:  # a buffer the export did not need (e.g. num_batches_tracked)
            if e.status != LC_ERR_NOT_FOUND:
                raise
            continue
        if tr:
            w = w.T
        if w.shape != v.shape or not np.array_equal(w.view(np.uint32), v.view(np.uint32)):
            bad.append(k)
    if bad:
        raise fail(f"{path}: tensors do not decode to the trained weights: {', '.join(bad)}",)
    return True


def write_lcm(m, out):
    """Writes atomically (the library writes a temporary file and renames)."""
    m.save(out)

