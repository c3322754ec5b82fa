"""Model-level functions: load, compress (a pipeline of passes), save, run, evaluate."""
import ctypes
import json
import os

import numpy as np

from ._lib import _FP, _I64P, _P, _U8P, check, lc_array, lc_weight_info, lib, LC_MAX_DIMS

__all__ = ["Model", "load", "normalize"]

_FORMAT_ONNX, _FORMAT_LCM = 0, 1


def normalize(x, mean=None, std=None):
    """What `shrink eval --mean M --std S` does to data: uint8 is scaled by
    1/255, then (x - mean) / std in float32 when mean and std are given."""
    x = np.asarray(x)
    if x.dtype == np.uint8:
        x = x.astype(np.float32) / np.float32(255.0)
    else:
        x = x.astype(np.float32)
    if mean is not None and std is not None:
        x = (x - np.float32(mean)) / np.float32(std)
    return np.ascontiguousarray(x, dtype=np.float32)


class _Dataset:
    """A libcompress dataset holding a copy of a float32 numpy array."""

    def __init__(self, x, label):
        a = np.ascontiguousarray(x, dtype=np.float32)
        if a.ndim < 1 or a.ndim > LC_MAX_DIMS or a.shape[0] == 0:
            raise ValueError(f"{label}: need an array of samples along dim 0, got shape {a.shape}")
        self.count = a.shape[0]
        self.handle = _P()
        dims = (ctypes.c_int64 * a.ndim)(*a.shape)
        check(lib.lc_dataset_create(label.encode(), a.ndim, dims, a.ctypes.data_as(_FP), ctypes.byref(self.handle)))

    def __del__(self):
        if getattr(self, "handle", None):
            lib.lc_dataset_free(self.handle)
            self.handle = None


class _Context:
    def __init__(self, calib=None, seed=0, threads=1):
        self.handle = _P()
        check(lib.lc_context_create(ctypes.byref(self.handle)))
        self.calib = _Dataset(calib, "calib") if calib is not None else None
        if self.calib:
            lib.lc_context_set_calib(self.handle, self.calib.handle, 0)
        lib.lc_context_set_seed(self.handle, int(seed))
        lib.lc_context_set_threads(self.handle, int(threads))

    def __del__(self):
        if getattr(self, "handle", None):
            lib.lc_context_free(self.handle)
            self.handle = None


def _params_text(params):
    if params is None:
        return ""
    if isinstance(params, dict):
        parts = []
        for k, v in params.items():
            if isinstance(v, (list, tuple)):
                parts += [f"{k}={x}" for x in v]
            elif isinstance(v, bool):
                parts.append(f"{k}={'true' if v else 'false'}")
            else:
                parts.append(f"{k}={v}")
        return ",".join(parts)
    return str(params)


class Model:
    """A model held by libcompress (loaded from .onnx or .lcm)."""

    def __init__(self, handle):
        self._h = handle

    def __del__(self):
        self.close()

    def close(self):
        """Frees the model now (it is freed when garbage-collected anyway)."""
        if getattr(self, "_h", None):
            lib.lc_model_free(self._h)
            self._h = None

    @property
    def handle(self):
        if not self._h:
            raise ValueError("the model was closed")
        return self._h

    def clone(self):
        """A deep copy."""
        out = _P()
        check(lib.lc_model_clone(self.handle, ctypes.byref(out)))
        return Model(out)

    def save(self, path):
        """Writes the model as .lcm (when path ends in .lcm) or ONNX."""
        path = os.fspath(path)
        if path.endswith(".lcm"):
            check(lib.lc_model_save_lcm(self.handle, path.encode(), None))
        else:
            check(lib.lc_model_save_onnx(self.handle, path.encode()))

    def run_pass(self, name, params=None, calib=None, seed=0, threads=1):
        """Runs one pass in place: name ("prune-magnitude"), params as
        "k=v,k=v" or a dict, calib an array of calibration samples (float32
        as the model's input expects, or use normalize())."""
        ctx = _Context(calib, seed, threads)
        check(lib.lc_pass_run(self.handle, name.encode(), _params_text(params).encode(), ctx.handle))
        return self

    def compress(self, passes=None, recipe=None, calib=None, val=None, labels=None, max_drop=None, seed=0,
                 threads=1, out=None):
        """Runs a pipeline on a copy of the model and returns (compressed
        Model, report dict). passes: a list of "name" / "name:k=v,..." /
        (name, params) items; recipe: a dict, JSON text or a .json path (as
        `shrink run --recipe`); calib / val: float32 sample arrays; labels:
        int labels of val (without them accuracy is agreement with the
        input model); max_drop: accuracy budget in points; out: a path
        (.onnx or .lcm) to write the result to. The report (input, output,
        ratio, accuracy, passes, layers) is filled by that write: without
        `out` it holds only "budget_met"."""
        p = _P()
        check(lib.lc_pipeline_create(ctypes.byref(p)))
        try:
            if max_drop is not None:
                lib.lc_pipeline_set_max_drop(p, float(max_drop))
            if recipe is not None:
                if isinstance(recipe, dict):
                    text, label = json.dumps(recipe), "recipe"
                elif os.path.exists(str(recipe)):
                    with open(recipe) as f:
                        text, label = f.read(), str(recipe)
                else:
                    text, label = str(recipe), "recipe"
                check(lib.lc_pipeline_load_recipe(p, text.encode(), label.encode()))
            for item in passes or []:
                if isinstance(item, (tuple, list)):
                    name, params = item[0], _params_text(item[1] if len(item) > 1 else None)
                else:
                    name, _, params = str(item).partition(":")
                check(lib.lc_pipeline_add_pass(p, name.encode(), params.encode()))
            vd = None
            lab = None
            if val is not None:
                vd = _Dataset(val, "val")
                n_lab = 0
                lab_ptr = None
                if labels is not None:
                    lab = np.ascontiguousarray(labels, dtype=np.int64)
                    n_lab = lab.shape[0]
                    lab_ptr = lab.ctypes.data_as(_I64P)
                check(lib.lc_pipeline_set_validation(p, vd.handle, lab_ptr, n_lab, 0))
            if out is not None and os.fspath(out).endswith(".lcm"):
                check(lib.lc_pipeline_set_format(p, _FORMAT_LCM))
            ctx = _Context(calib, seed, threads)
            res = _P()
            check(lib.lc_pipeline_run(p, self.handle, ctx.handle, ctypes.byref(res)))
            result = Model(res)
            if out is not None:
                check(lib.lc_pipeline_write(p, result.handle, os.fspath(out).encode()))
            report = json.loads(lib.lc_pipeline_report(p).decode())
            report["budget_met"] = bool(lib.lc_pipeline_budget_met(p))
            del vd, lab
            return result, report
        finally:
            lib.lc_pipeline_free(p)

    def predict(self, x, batch=256, threads=1):
        """Runs the model on float32 samples x (dim 0 = samples; other dims
        as the model's single input) and returns its first output."""
        xa = np.ascontiguousarray(x, dtype=np.float32)
        n = xa.shape[0]
        outs = []
        ex, planned = _P(), 0
        try:
            for start in range(0, n, batch):
                b = min(batch, n - start)
                if b != planned:
                    if ex:
                        lib.lc_executor_free(ex)
                        ex = _P()
                    check(lib.lc_executor_create_batch(self.handle, b, int(threads), ctypes.byref(ex)))
                    planned = b
                shape = lc_array()
                check(lib.lc_executor_input(ex, 0, ctypes.byref(shape), None))
                want = int(np.prod([shape.dims[i] for i in range(shape.ndim)]))
                chunk = xa[start:start + b]
                if chunk.size != want:
                    dims = [shape.dims[i] for i in range(shape.ndim)]
                    raise ValueError(f"samples of shape {chunk.shape[1:]} do not fit the model input {dims}")
                shape.data = chunk.ctypes.data
                check(lib.lc_executor_run(ex, ctypes.byref(shape), 1))
                o = lc_array()
                check(lib.lc_executor_output(ex, 0, ctypes.byref(o), None))
                if o.dtype != 1:
                    raise ValueError("the model's first output is not float32")
                dims = [o.dims[i] for i in range(o.ndim)]
                cnt = int(np.prod(dims)) if dims else 1
                buf = np.ctypeslib.as_array(ctypes.cast(o.data, _FP), shape=(cnt,)).copy()
                outs.append(buf.reshape(dims))
        finally:
            if ex:
                lib.lc_executor_free(ex)
        return np.concatenate(outs, axis=0)

    def eval(self, x, labels, batch=256, threads=1):
        """Top-1 accuracy in percent of the first output's arg-max against labels."""
        logits = self.predict(x, batch, threads)
        pred = logits.reshape(logits.shape[0], -1).argmax(axis=1)
        return 100.0 * float(np.mean(pred == np.asarray(labels).reshape(-1)))


_ENCODINGS = ["dense", "uniform", "codebook", "binary"]


def _info_dict(wi):
    return {"name": wi.name.decode(), "node": wi.node.decode(), "op": wi.op.decode(),
            "node_index": wi.node_index, "input": wi.input, "out_axis": wi.out_axis, "in_axis": wi.in_axis,
            "shape": tuple(wi.dims[i] for i in range(wi.ndim)), "numel": wi.numel,
            "encoding": _ENCODINGS[wi.encoding] if 0 <= wi.encoding < 4 else wi.encoding, "bits": wi.bits,
            "axis": wi.axis, "channels": wi.channels, "n_codes": wi.n_codes, "has_mask": bool(wi.has_mask),
            "kept": wi.kept, "sparsity": wi.sparsity, "entropy_coded": bool(wi.entropy_coded)}


def _weight_methods(cls):
    """Weight access (float view, mask, codebook per tensor)."""

    def weights(self):
        """The layer weights (float32 weight inputs of Conv, ConvTranspose,
        Gemm, MatMul), in node order, as dicts (name, node, op, shape,
        encoding, bits, n_codes, kept, sparsity, ...)."""
        n = ctypes.c_int()
        check(lib.lc_model_weight_count(self.handle, ctypes.byref(n)))
        out = []
        for i in range(n.value):
            wi = lc_weight_info()
            check(lib.lc_model_weight(self.handle, i, ctypes.byref(wi)))
            out.append(_info_dict(wi))
        return out

    def weight_info(self, name):
        """The dict of weights() for any float32 stored tensor `name`."""
        wi = lc_weight_info()
        check(lib.lc_weight_find(self.handle, name.encode(), ctypes.byref(wi)))
        return _info_dict(wi)

    def weight(self, name):
        """A copy of the float view of tensor `name` (what the executor uses)."""
        info = self.weight_info(name)
        a = np.empty(info["shape"], dtype=np.float32)
        check(lib.lc_weight_float_view(self.handle, name.encode(), a.ctypes.data_as(_FP), a.size))
        return a

    def mask(self, name):
        """Bool mask of tensor `name` (True = kept; all True without a mask)."""
        info = self.weight_info(name)
        a = np.empty(info["shape"], dtype=np.uint8)
        check(lib.lc_weight_mask(self.handle, name.encode(), a.ctypes.data_as(_U8P), a.size))
        return a.astype(bool)

    def codebook(self, name):
        """(table [channels, n_codes], codes uint8 shaped like the tensor) of a
        coded tensor (CODEBOOK, UNIFORM or BINARY)."""
        info = self.weight_info(name)
        table = np.empty((info["channels"], info["n_codes"]), dtype=np.float32)
        codes = np.empty(info["shape"], dtype=np.uint8)
        check(lib.lc_weight_codebook(self.handle, name.encode(), table.ctypes.data_as(_FP), table.size,
                                     codes.ctypes.data_as(_U8P), codes.size))
        return table, codes

    def set_weight(self, name, values):
        """Overwrites the float view of `name` (pruned elements stay 0; a coded
        tensor keeps its encoding when every value is in its table)."""
        a = np.ascontiguousarray(values, dtype=np.float32)
        check(lib.lc_weight_set_float(self.handle, name.encode(), a.ctypes.data_as(_FP), a.size))

    def set_mask(self, name, mask):
        """Sets the mask of `name` (True/nonzero = kept; None removes it)."""
        if mask is None:
            info = self.weight_info(name)
            check(lib.lc_weight_set_mask(self.handle, name.encode(), None, info["numel"]))
            return
        a = np.ascontiguousarray(np.asarray(mask) != 0, dtype=np.uint8)
        check(lib.lc_weight_set_mask(self.handle, name.encode(), a.ctypes.data_as(_U8P), a.size))

    def set_codebook(self, name, codebook, codes, axis=-1):
        """Stores `name` as a codebook: codebook [channels, n_codes] (channels
        along `axis`, 1 row for axis=-1) and codes shaped like the tensor;
        the float view becomes codebook[c][codes] (pruned elements stay 0)."""
        cb = np.ascontiguousarray(codebook, dtype=np.float32)
        cb2 = cb.reshape(-1, cb.shape[-1]) if cb.ndim else cb.reshape(1, 1)
        cd = np.ascontiguousarray(codes, dtype=np.uint8)
        check(lib.lc_weight_set_codebook(self.handle, name.encode(), int(axis), cb2.shape[1],
                                         cb2.ctypes.data_as(_FP), cb2.size, cd.ctypes.data_as(_U8P), cd.size))

    def validate(self):
        """Checks the model's invariants (raises Error with LC_ERR_VERIFY)."""
        check(lib.lc_model_validate(self.handle))

    def report(self):
        """The weights report of lc_model_report as a dict (params, bytes,
        lcm_bytes, weights: [...])."""
        p = _P()
        check(lib.lc_model_report(self.handle, ctypes.byref(p)))
        try:
            return json.loads(ctypes.cast(p, ctypes.c_char_p).value.decode())
        finally:
            lib.free(p)

    for f in (weights, weight_info, weight, mask, codebook, set_weight, set_mask, set_codebook, validate, report):
        setattr(cls, f.__name__, f)
    return cls


_weight_methods(Model)


def load(path):
    """Loads a model from an .onnx or .lcm file."""
    h = _P()
    check(lib.lc_model_load(os.fspath(path).encode(), ctypes.byref(h)))
    return Model(h)
