"""Python binding of libcompress (shrink's compression library), over ctypes.

    import numpy as np, shrink
    mask = shrink.prune_magnitude(w, 0.9)                   # bool, True = kept
    codebook, codes, shared = shrink.kmeans(w * mask, bits=4)
    m = shrink.load("lenet300.onnx")
    small, report = m.compress(["prune-magnitude:sparsity=0.9", "quantize-kmeans:bits=4", "huffman"],
                               val=x, labels=y, max_drop=0.5, out="lenet300.lcm")
    print(shrink.load("lenet300.lcm").eval(x, y))

Retraining a PyTorch model to an .lcm: `import shrink.torch` and
shrink.torch.compress(model, train_loader, val_loader, example_input,
ratio=40, max_drop=0.5, out="model.lcm") (needs torch and onnx).

Failures raise shrink.Error carrying the library's message. The shared
library is found through $LIBCOMPRESS_PATH, next to this package, or in the
source tree's build folders (see _lib.py); it is loaded on first use.
"""
from ._lib import Error, version
from .arrays import binarize, drop_interval, kmeans, prune_hessian, prune_magnitude, prune_nm, quantize_int8
from .model import Model, load, normalize

__all__ = ["Error", "version", "prune_magnitude", "prune_nm", "prune_hessian", "kmeans", "binarize",
           "quantize_int8", "drop_interval", "Model", "load", "normalize"]
