"""Loading libcompress.so and declaring the C functions the binding calls.

The library is loaded on first use (importing shrink never needs it), and
looked for, in order:
  1. $LIBCOMPRESS_PATH (the .so file itself, or the folder holding it);
  2. next to this package (shrink/libcompress.so*: the copy `pip install`
     bundles when it finds a built library, see setup.py);
  3. $LC_BUILD_DIR, then the build folders of the source tree this package
     sits in (bindings/python/shrink -> ../../../build*/);
  4. the system's library path (ctypes.util.find_library("compress"));
  5. the libdir of pkg-config's libcompress (an install under a prefix
     that is not on the library path).
When none loads, the first call that needs it raises Error with the fix.
"""
import ctypes
import ctypes.util
import glob
import os
import subprocess

LC_MAX_DIMS = 16
_HERE = os.path.dirname(os.path.abspath(__file__))


class Error(Exception):
    """A libcompress call failed. `status` is the lc_status (negative int),
    `status_name` its name ("LC_ERR_SHAPE"), and str(e) the library's
    message (lc_last_error())."""

    def __init__(self, status, status_name, message):
        super().__init__(message)
        if isinstance(status_name, int) or status_name is None:
            status_name = _STATUS_NAMES.get(status, "LC_ERR_INTERNAL")
        self.status = status
        self.status_name = status_name
        self.message = message

    def __str__(self):
        return f"{self.message} ({self.status_name})"


# the lc_status values errors raised by Python code carry (libcompress.h)
LC_ERR_INVALID_ARGUMENT, LC_ERR_SHAPE, LC_ERR_NOT_FOUND = -1, -6, -8
_STATUS_NAMES = {-1: "LC_ERR_INVALID_ARGUMENT", -6: "LC_ERR_SHAPE", -8: "LC_ERR_NOT_FOUND"}


def fail(message, status=LC_ERR_INVALID_ARGUMENT):
    """An Error raised by the binding itself (not by a library call)."""
    return Error(status, _STATUS_NAMES.get(status), message)


class lc_array(ctypes.Structure):
    _fields_ = [("dtype", ctypes.c_int), ("ndim", ctypes.c_int),
                ("dims", ctypes.c_int64 * LC_MAX_DIMS), ("data", ctypes.c_void_p)]


class lc_data_options(ctypes.Structure):
    _fields_ = [("has_norm", ctypes.c_int), ("mean", ctypes.c_float), ("std", ctypes.c_float),
                ("limit", ctypes.c_int64)]


def _candidates():
    env = os.environ.get("LIBCOMPRESS_PATH")
    if env:
        if os.path.isdir(env):
            yield from sorted(glob.glob(os.path.join(env, "libcompress.so*")))
        else:
            yield env
        return
    yield from sorted(glob.glob(os.path.join(_HERE, "libcompress.so*")))
    build = os.environ.get("LC_BUILD_DIR")
    if build:
        yield os.path.join(build, "libcompress.so")
    root = os.path.normpath(os.path.join(_HERE, "..", "..", ".."))
    for d in ["build"] + sorted(os.path.basename(p) for p in glob.glob(os.path.join(root, "build*"))):
        yield os.path.join(root, d, "libcompress.so")
    found = ctypes.util.find_library("compress")
    if found:
        yield found
    try:
        libdir = subprocess.run(["pkg-config", "--variable=libdir", "libcompress"], capture_output=True,
                                text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        libdir = ""
    if libdir:
        yield os.path.join(libdir, "libcompress.so")


def _load():
    tried = []
    for path in _candidates():
        if not os.path.isabs(path) and os.sep not in path:
            try:
                return ctypes.CDLL(path)
            except OSError:
                tried.append(path)
                continue
        if os.path.exists(path):
            try:
                lib = ctypes.CDLL(path)
                lib.lc_version  # a libcompress, not some other libcompress.so
                return lib
            except (OSError, AttributeError):
                tried.append(path)
        else:
            tried.append(path)
    raise fail("libcompress.so not found: build it (cmake -S . -B build && cmake --build build), install it "
               "(cmake --install build) or set LIBCOMPRESS_PATH to the library or its folder "
               f"(tried: {', '.join(tried) or 'nothing'})", LC_ERR_NOT_FOUND)

_P = ctypes.c_void_p
_I64P = ctypes.POINTER(ctypes.c_int64)
_FP = ctypes.POINTER(ctypes.c_float)
_U8P = ctypes.POINTER(ctypes.c_uint8)
_I8P = ctypes.POINTER(ctypes.c_int8)
_S = ctypes.c_char_p
_i, _i64, _d = ctypes.c_int, ctypes.c_int64, ctypes.c_double

# name: (restype, argtypes); restype _i for the lc_status functions
_PROTOS = {
    "lc_version": (_S, []),
    "lc_status_name": (_S, [_i]),
    "lc_last_error": (_S, []),
    # array-level API
    "lc_array_prune_magnitude": (_i, [_FP, _i, _I64P, _d, _i, _i, _FP, _U8P]),
    "lc_array_prune_hessian": (_i, [_FP, _i, _I64P, ctypes.POINTER(lc_array), _d, _i, _i, _i64, _d, _FP, _U8P]),
    "lc_array_kmeans": (_i, [_FP, _i, _I64P, _i, _i, _S, _FP, _U8P, _FP]),
    "lc_array_binarize": (_i, [_FP, _i, _I64P, _FP, _U8P, _FP]),
    "lc_array_quantize_int8": (_i, [_FP, _i, _I64P, _i, _i, _FP, _I8P, _I8P]),
    # models
    "lc_model_load": (_i, [_S, ctypes.POINTER(_P)]),
    "lc_model_free": (None, [_P]),
    "lc_model_clone": (_i, [_P, ctypes.POINTER(_P)]),
    "lc_model_save_onnx": (_i, [_P, _S]),
    "lc_model_save_lcm": (_i, [_P, _S, _P]),
    "lc_pass_run": (_i, [_P, _S, _S, _P]),
    # datasets
    "lc_dataset_create": (_i, [_S, _i, _I64P, _FP, ctypes.POINTER(_P)]),
    "lc_dataset_free": (None, [_P]),
    # context
    "lc_context_create": (_i, [ctypes.POINTER(_P)]),
    "lc_context_free": (None, [_P]),
    "lc_context_set_calib": (None, [_P, _P, _i64]),
    "lc_context_set_seed": (None, [_P, ctypes.c_uint64]),
    "lc_context_set_threads": (None, [_P, _i]),
    # executor
    "lc_executor_create_batch": (_i, [_P, _i, _i, ctypes.POINTER(_P)]),
    "lc_executor_run": (_i, [_P, ctypes.POINTER(lc_array), _i]),
    "lc_executor_input": (_i, [_P, _i, ctypes.POINTER(lc_array), ctypes.POINTER(_S)]),
    "lc_executor_output": (_i, [_P, _i, ctypes.POINTER(lc_array), ctypes.POINTER(_S)]),
    "lc_executor_free": (None, [_P]),
    # pipeline
    "lc_pipeline_create": (_i, [ctypes.POINTER(_P)]),
    "lc_pipeline_free": (None, [_P]),
    "lc_pipeline_add_pass": (_i, [_P, _S, _S]),
    "lc_pipeline_load_recipe": (_i, [_P, _S, _S]),
    "lc_pipeline_set_max_drop": (None, [_P, _d]),
    "lc_pipeline_set_validation": (_i, [_P, _P, _I64P, _i64, _i64]),
    "lc_pipeline_set_format": (_i, [_P, _i]),
    "lc_pipeline_run": (_i, [_P, _P, _P, ctypes.POINTER(_P)]),
    "lc_pipeline_budget_met": (_i, [_P]),
    "lc_pipeline_write": (_i, [_P, _P, _S]),
    "lc_pipeline_report": (_S, [_P]),
    "lc_pipeline_set_target_size": (None, [_P, _i64]),
    "lc_pipeline_target_met": (_i, [_P]),
    "lc_accuracy_drop_interval": (None, [_i64, _i64, _i64, _i64, _d, ctypes.POINTER(_d), ctypes.POINTER(_d)]),
    "lc_sensitivity_run": (_i, [_P, _S, _S, ctypes.POINTER(_d), _i, _P, _I64P, _i64, _i64, _P,
                                ctypes.POINTER(_P)]),
    "lc_model_save_lcm_buffer": (_i, [_P, _P, ctypes.POINTER(_P), ctypes.POINTER(ctypes.c_size_t)]),
    "free": (None, [_P]),
}



class lc_weight_info(ctypes.Structure):
    _fields_ = [("name", _S), ("node", _S), ("op", _S), ("node_index", _i), ("input", _i), ("out_axis", _i),
                ("in_axis", _i), ("ndim", _i), ("dims", ctypes.c_int64 * LC_MAX_DIMS), ("numel", _i64),
                ("encoding", _i), ("bits", _i), ("axis", _i), ("channels", _i64), ("n_codes", _i),
                ("has_mask", _i), ("kept", _i64), ("sparsity", _d), ("entropy_coded", _i)]


_WI = ctypes.POINTER(lc_weight_info)
# weight access (read and write a model's weights)
_WEIGHT_PROTOS = {
    "lc_model_weight_count": (_i, [_P, ctypes.POINTER(_i)]),
    "lc_model_weight": (_i, [_P, _i, _WI]),
    "lc_weight_find": (_i, [_P, _S, _WI]),
    "lc_weight_float_view": (_i, [_P, _S, _FP, _i64]),
    "lc_weight_mask": (_i, [_P, _S, _U8P, _i64]),
    "lc_weight_codebook": (_i, [_P, _S, _FP, _i64, _U8P, _i64]),
    "lc_weight_set_float": (_i, [_P, _S, _FP, _i64]),
    "lc_weight_set_mask": (_i, [_P, _S, _U8P, _i64]),
    "lc_weight_set_codebook": (_i, [_P, _S, _i, _i, _FP, _i64, _U8P, _i64]),
    "lc_model_validate": (_i, [_P]),
    "lc_model_report": (_i, [_P, ctypes.POINTER(_P)]),
}
_PROTOS.update(_WEIGHT_PROTOS)



class _LazyLib:
    """The loaded library, declared on first attribute access; a missing
    library raises Error (with the fix) there, not at import."""

    def __init__(self):
        self._cdll = None

    def _get(self):
        if self._cdll is None:
            cdll = _load()
            for name, (res, args) in _PROTOS.items():
                f = getattr(cdll, name)
                f.restype = res
                f.argtypes = args
            self._cdll = cdll
        return self._cdll

    def __getattr__(self, name):
        return getattr(self._get(), name)


lib = _LazyLib()


def check(status):
    """Raises Error with the library's message unless status is LC_OK."""
    if status != 0:
        msg = lib.lc_last_error().decode("utf-8", "replace")
        name = lib.lc_status_name(status).decode()
        raise Error(status, name, msg)


def version():
    """The library's version string ("0.2.0")."""
    return lib.lc_version().decode()
