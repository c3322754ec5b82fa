#!/usr/bin/python3
"""Cross-checks the dataset readers against NumPy.

Writes .npy (every dtype, format 1.0/2.0/3.0), IDX (plain and gzip'ed, every
type code), raw float32 and hostile files into $LC_BUILD_DIR/datasets-test,
together with NumPy's own float32/int64 conversion of each (the expected
values) and a manifest. Then runs the Check binary (argv[1]) on that folder,
which loads every file with libcompress and compares value by value, and
finally reads back with NumPy the .npy files the C side wrote with
lc_npy_write.

Manifest lines (space separated):
  data SPEC EXPECT OFFSET HAS_NORM MEAN STD LIMIT COUNT SAMPLE_NDIM DIMS...
      EXPECT holds float32 samples OFFSET.. of the loaded dataset
  labels PATH EXPECT LIMIT COUNT
  error data|labels SPEC STATUS_NAME MESSAGE_SUBSTRING
  truncate SPEC      every proper prefix of SPEC must fail cleanly
"""
import gzip
import os
import shutil
import subprocess
import sys
import warnings

import numpy as np

FASHION = "/usr/share/datasets/fashion-mnist"

build = os.environ.get("LC_BUILD_DIR", ".")
out = os.path.join(build, "datasets-test")
shutil.rmtree(out, ignore_errors=True)
os.makedirs(out)
manifest = []
rng = np.random.default_rng(1234)


def p(name):
    return os.path.join(out, name)


def f32repr(v):
    return repr(float(np.float32(v)))


def expect_data(spec, arr, name, offset=0, norm=None, limit=0, count=None, sample_dims=None,
                expect_rows=None):
    """arr: the array as it is in the file; expected = NumPy's conversion."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # float64 -> float32 overflow
        x = arr.astype(np.float32)
    if arr.dtype == np.uint8:
        x = x / np.float32(255)
    if norm:
        x = (x - np.float32(norm[0])) / np.float32(norm[1])
    assert x.dtype == np.float32
    n = arr.shape[0] if not limit else min(limit, arr.shape[0])
    rows = x[offset:n] if expect_rows is None else x[offset:offset + expect_rows]
    np.ascontiguousarray(rows).astype("<f4").tofile(p(name + ".expect"))
    sd = arr.shape[1:] if sample_dims is None else sample_dims
    manifest.append("data %s %s %d %d %s %s %d %d %d %s" % (
        spec, p(name + ".expect"), offset, 1 if norm else 0,
        f32repr(norm[0]) if norm else "0", f32repr(norm[1]) if norm else "1",
        limit, n if count is None else count, len(sd), " ".join(str(d) for d in sd)))


def expect_labels(path, arr, name, limit=0):
    n = arr.shape[0] if not limit else min(limit, arr.shape[0])
    arr.reshape(-1)[:n].astype("<i8").tofile(p(name + ".expect"))
    manifest.append("labels %s %s %d %d" % (path, p(name + ".expect"), limit, n))


def expect_error(kind, spec, status, substring):
    manifest.append("error %s %s %s %s" % (kind, spec, status, substring))


def save_npy(name, arr, version=(1, 0), allow_pickle=False):
    with open(p(name), "wb") as f:
        np.lib.format.write_array(f, arr, version=version, allow_pickle=allow_pickle)
    return p(name)


def idx_bytes(arr, code):
    head = bytes([0, 0, code, arr.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in arr.shape)
    return head + arr.tobytes()


# ---- .npy: every dtype in every header version ----
shapes = [(5,), (4, 3), (3, 2, 4), (2, 1, 3, 3), (6, 2)]
dtypes = ["<f4", "<f8", "|u1", "|i1", "|b1", "<i2", "<u2", "<i4", "<u4", "<i8", "<u8"]
k = 0
for dt in dtypes:
    for version in [(1, 0), (2, 0), (3, 0)]:
        shape = shapes[k % len(shapes)]
        k += 1
        t = np.dtype(dt)
        if t.kind == "f":
            arr = (rng.standard_normal(shape) * 1000).astype(t)
            flat = arr.reshape(-1)
            if t.itemsize == 8 and flat.size >= 4:
                flat[:4] = [1e300, -1e300, np.nan, 1.0 + 2.0 ** -40]  # overflow, NaN, rounding
        elif t.kind == "b":
            arr = rng.integers(0, 2, shape).astype(t)
        else:
            info = np.iinfo(t)
            arr = rng.integers(info.min, info.max, shape, dtype=t, endpoint=True)
        name = "npy_%s_v%d" % (t.name, version[0])
        expect_data(save_npy(name + ".npy", arr, version), arr, name)

# normalisation and limits
u8 = rng.integers(0, 256, (7, 1, 5, 5), dtype=np.uint8)
expect_data(save_npy("norm_u8.npy", u8), u8, "norm_u8", norm=(0.2860, 0.3530))
expect_data(p("norm_u8.npy"), u8, "norm_u8_lim", norm=(0.5, 0.25), limit=3)
f4 = rng.standard_normal((6, 10)).astype(np.float32)
expect_data(save_npy("norm_f4.npy", f4), f4, "norm_f4", norm=(-1.5, 3.25))
expect_data(p("norm_f4.npy"), f4, "lim_f4", limit=2)
expect_data(p("norm_f4.npy"), f4, "lim_big_f4", limit=100)
f8 = rng.standard_normal((4, 3)).astype(np.float64)
expect_data(save_npy("norm_f8.npy", f8), f8, "norm_f8", norm=(0.1, 0.7))
# samples that are scalars: shape (N,)
v = np.arange(9, dtype=np.int32) - 4
expect_data(save_npy("scalars.npy", v), v, "scalars")
# a gzip'ed .npy
with gzip.open(p("gz.npy.gz"), "wb") as f:
    np.lib.format.write_array(f, f4)
expect_data(p("gz.npy.gz"), f4, "gz_npy")

# ---- raw float32 ----
raw = rng.standard_normal((4, 3, 2)).astype("<f4")
raw.tofile(p("x.bin"))
expect_data(p("x.bin") + ":4x3x2", raw, "raw")
expect_data(p("x.bin") + ":24", raw.reshape(24), "raw_flat")
expect_data(p("x.bin") + ":4x3x2", raw, "raw_lim", limit=3)
expect_error("data", p("x.bin") + ":4x3x3", "LC_ERR_FORMAT", "need 144 bytes after the header, the file has only 96")
expect_error("data", p("x.bin") + ":4x3", "LC_ERR_FORMAT", "the file has 96")
expect_error("data", p("x.bin") + ":4x0x2", "LC_ERR_INVALID_ARGUMENT", "bad raw float32 shape")
expect_error("data", p("x.bin") + ":4x", "LC_ERR_INVALID_ARGUMENT", "bad raw float32 shape")
expect_error("data", p("x.bin"), "LC_ERR_FORMAT", "raw float32 data needs its shape")
expect_error("data", p("missing.bin") + ":4", "LC_ERR_IO", "missing.bin: cannot open")

# ---- IDX: real Fashion-MNIST (gzip) ----
def read_idx_gz(path):
    with gzip.open(path, "rb") as f:
        b = f.read()
    nd = b[3]
    dims = [int.from_bytes(b[4 + 4 * i:8 + 4 * i], "big") for i in range(nd)]
    return np.frombuffer(b, dtype=np.uint8, offset=4 + 4 * nd).reshape(dims), b


t10k, t10k_bytes = read_idx_gz(FASHION + "/t10k-images-idx3-ubyte.gz")
t10k_lab, t10k_lab_bytes = read_idx_gz(FASHION + "/t10k-labels-idx1-ubyte.gz")
assert t10k.shape == (10000, 28, 28) and t10k_lab.shape == (10000,)
expect_data(FASHION + "/t10k-images-idx3-ubyte.gz", t10k, "fm_t10k_head", expect_rows=64)
expect_data(FASHION + "/t10k-images-idx3-ubyte.gz", t10k, "fm_t10k_tail", offset=9990)
expect_data(FASHION + "/t10k-images-idx3-ubyte.gz", t10k, "fm_t10k_norm", norm=(0.2860, 0.3530), limit=16)
expect_labels(FASHION + "/t10k-labels-idx1-ubyte.gz", t10k_lab, "fm_t10k_labels")
train, _ = read_idx_gz(FASHION + "/train-images-idx3-ubyte.gz")
train_lab, _ = read_idx_gz(FASHION + "/train-labels-idx1-ubyte.gz")
expect_data(FASHION + "/train-images-idx3-ubyte.gz", train, "fm_train_lim", limit=5)
expect_labels(FASHION + "/train-labels-idx1-ubyte.gz", train_lab, "fm_train_labels", limit=5)
# the same bytes uncompressed
with open(p("t10k-labels-idx1-ubyte"), "wb") as f:
    f.write(t10k_lab_bytes)
expect_labels(p("t10k-labels-idx1-ubyte"), t10k_lab, "fm_labels_plain", limit=123)
sub = np.ascontiguousarray(t10k[:20])
with open(p("sub-idx3-ubyte"), "wb") as f:
    f.write(idx_bytes(sub, 0x08))
expect_data(p("sub-idx3-ubyte"), sub, "idx_plain")

# ---- IDX: every type code, plain and gzip'ed (big-endian payloads) ----
idx_types = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
for code, dt in idx_types.items():
    t = np.dtype(dt)
    if t.kind == "f":
        arr = (rng.standard_normal((3, 2, 5)) * 50).astype(t)
    else:
        info = np.iinfo(t)
        arr = rng.integers(info.min, info.max, (3, 2, 5), endpoint=True).astype(t)
    b = idx_bytes(arr, code)
    name = "idx_%02x" % code
    with open(p(name), "wb") as f:
        f.write(b)
    with gzip.open(p(name + ".gz"), "wb") as f:
        f.write(b)
    native = arr.astype(t.newbyteorder("<"))
    expect_data(p(name), native, name)
    expect_data(p(name + ".gz"), native, name + "_gz")
    if t.kind in "iu":
        lab = (np.abs(arr.reshape(-1).astype(np.int64)) % 100).astype(t)
        with gzip.open(p(name + "_lab.gz"), "wb") as f:
            f.write(idx_bytes(lab, code))
        expect_labels(p(name + "_lab.gz"), lab.astype(np.int64), name + "_lab")

# IDX errors
with open(p("idx_short"), "wb") as f:
    f.write(idx_bytes(sub, 0x08)[:-7])
expect_error("data", p("idx_short"), "LC_ERR_FORMAT", "the file has only")
with open(p("idx_long"), "wb") as f:
    f.write(idx_bytes(sub, 0x08) + b"\0")
expect_error("data", p("idx_long"), "LC_ERR_FORMAT", "the file has 15681")
with gzip.open(p("idx_long.gz"), "wb") as f:
    f.write(idx_bytes(sub, 0x08) + b"\0")
expect_error("data", p("idx_long.gz"), "LC_ERR_FORMAT", "data continues after")
with gzip.open(p("idx_short.gz"), "wb") as f:
    f.write(idx_bytes(sub, 0x08)[:-1])
expect_error("data", p("idx_short.gz"), "LC_ERR_FORMAT", "truncated")
gzb = gzip.compress(idx_bytes(sub, 0x08))
with open(p("idx_cut.gz"), "wb") as f:
    f.write(gzb[: len(gzb) // 2])
expect_error("data", p("idx_cut.gz"), "LC_ERR_FORMAT", "gzip stream is truncated")
bad = bytearray(gzb)
bad[len(bad) // 2] ^= 0xFF
with open(p("idx_corrupt.gz"), "wb") as f:
    f.write(bad)
expect_error("data", p("idx_corrupt.gz"), "LC_ERR_FORMAT", "gzip")
with open(p("idx_type0a"), "wb") as f:
    f.write(bytes([0, 0, 0x0A, 1, 0, 0, 0, 1, 0]))
expect_error("data", p("idx_type0a"), "LC_ERR_UNSUPPORTED", "IDX type code 0x0A")
with open(p("idx_huge"), "wb") as f:
    f.write(bytes([0, 0, 0x0D, 3]) + b"\xff\xff\xff\xff" * 3)
expect_error("data", p("idx_huge"), "LC_ERR_FORMAT", "too large")
with gzip.open(p("idx_huge2.gz"), "wb") as f:  # claims 16 GB, holds 8 bytes
    f.write(bytes([0, 0, 0x08, 2, 0, 0x10, 0, 0, 0, 0, 0x40, 0]) + b"\1" * 8)
expect_error("data", p("idx_huge2.gz"), "LC_ERR_FORMAT", "truncated")
expect_error("labels", FASHION + "/t10k-images-idx3-ubyte.gz", "LC_ERR_SHAPE", "labels must have shape N or Nx1")

# ---- labels .npy ----
lab = rng.integers(0, 10, 50).astype(np.int64)
expect_labels(save_npy("lab_i8.npy", lab), lab, "lab_i8")
expect_labels(save_npy("lab_u1_col.npy", lab.astype(np.uint8).reshape(50, 1), (2, 0)), lab, "lab_u1", limit=20)
expect_labels(save_npy("lab_i4.npy", lab.astype(np.int32), (3, 0)), lab, "lab_i4", limit=70)
save_npy("lab_f4.npy", lab.astype(np.float32))
expect_error("labels", p("lab_f4.npy"), "LC_ERR_DTYPE", "labels must have an integer dtype")
neg = lab.copy()
neg[7] = -3
save_npy("lab_neg.npy", neg)
expect_error("labels", p("lab_neg.npy"), "LC_ERR_FORMAT", "label -3 at index 7 is negative")
save_npy("lab_u8big.npy", np.array([1, 2 ** 64 - 1], dtype=np.uint64))
expect_error("labels", p("lab_u8big.npy"), "LC_ERR_FORMAT", "index 1 does not fit int64")

# ---- .npy errors (files written by NumPy) ----
a23 = np.arange(6, dtype=np.float32).reshape(2, 3)
save_npy("fortran.npy", np.asfortranarray(a23))
expect_error("data", p("fortran.npy"), "LC_ERR_UNSUPPORTED", "fortran.npy: Fortran-order arrays are not supported")
save_npy("object.npy", np.array([1, "a", None], dtype=object), allow_pickle=True)
expect_error("data", p("object.npy"), "LC_ERR_UNSUPPORTED", "object.npy: object arrays are not supported")
save_npy("bigendian.npy", a23.astype(">f4"))
expect_error("data", p("bigendian.npy"), "LC_ERR_UNSUPPORTED", "big-endian arrays ('>f4') are not supported")
save_npy("structured.npy", np.zeros(3, dtype=[("a", "<f4"), ("b", "<i4")]))
expect_error("data", p("structured.npy"), "LC_ERR_UNSUPPORTED", "structured arrays are not supported")
save_npy("complex.npy", np.zeros(3, dtype=np.complex64))
expect_error("data", p("complex.npy"), "LC_ERR_UNSUPPORTED", "dtype '<c8' is not supported")
save_npy("half.npy", np.zeros(3, dtype=np.float16))
expect_error("data", p("half.npy"), "LC_ERR_UNSUPPORTED", "dtype '<f2' is not supported")
save_npy("unicode.npy", np.array(["ab", "c"]))
expect_error("data", p("unicode.npy"), "LC_ERR_UNSUPPORTED", "is not supported")
save_npy("zerod.npy", np.array(3.0, dtype=np.float32))
expect_error("data", p("zerod.npy"), "LC_ERR_SHAPE", "0-d array")
save_npy("empty.npy", np.zeros((0, 3), dtype=np.float32))
expect_error("data", p("empty.npy"), "LC_ERR_SHAPE", "holds no data")
save_npy("empty2.npy", np.zeros((3, 0), dtype=np.float32))
expect_error("data", p("empty2.npy"), "LC_ERR_SHAPE", "holds no data")
with open(p("trailing.npy"), "wb") as f:
    np.lib.format.write_array(f, a23)
    f.write(b"\0\0\0\0")
expect_error("data", p("trailing.npy"), "LC_ERR_FORMAT", "need 24 bytes after the header, the file has 28")
with open(p("empty_file.npy"), "wb") as f:
    pass
expect_error("data", p("empty_file.npy"), "LC_ERR_FORMAT", "too short")
expect_error("data", out, "LC_ERR_IO", "is a folder")

# ---- truncation at every length ----
manifest.append("truncate " + save_npy("trunc_v1.npy", a23, (1, 0)))
manifest.append("truncate " + save_npy("trunc_v2.npy", np.arange(5, dtype=np.uint8), (2, 0)))
manifest.append("truncate " + save_npy("trunc_v3.npy", np.arange(4, dtype=np.int64), (3, 0)))
with gzip.open(p("trunc_idx.gz"), "wb") as f:
    f.write(idx_bytes(np.arange(12, dtype=np.uint8).reshape(3, 2, 2), 0x08))
manifest.append("truncate " + p("trunc_idx.gz"))
with open(p("trunc_idx"), "wb") as f:
    f.write(idx_bytes(np.arange(12, dtype=">i2").reshape(3, 4), 0x0B))
manifest.append("truncate " + p("trunc_idx"))

with open(p("manifest.txt"), "w") as f:
    f.write("\n".join(manifest) + "\n")

# ---- run the C side ----
r = subprocess.run([sys.argv[1], out], env=dict(os.environ, CK_FORK="yes"))
if r.returncode != 0:
    sys.exit("test_datasets failed on %s (exit %d)" % (out, r.returncode))

# ---- what lc_npy_write wrote, read back by NumPy ----
def check_written(name, dtype, expected):
    got = np.load(p(name))
    assert got.dtype == np.dtype(dtype), (name, got.dtype)
    assert got.shape == expected.shape, (name, got.shape, expected.shape)
    assert np.array_equal(got, expected), name
    with open(p(name), "rb") as f:
        b = f.read()
    hlen = int.from_bytes(b[8:10], "little")
    assert (10 + hlen) % 64 == 0 and b[9 + hlen] == 0x0A, name


n = np.arange(2 * 3 * 4)
check_written("written_f32.npy", "<f4", (n.astype(np.float32) * np.float32(0.25) - np.float32(3)).reshape(2, 3, 4))
check_written("written_i64.npy", "<i8", (n.astype(np.int64) * 1000003 - 7).reshape(2, 3, 4) * (2 ** 30))
check_written("written_vec.npy", "<f4", np.array([1.5, -2.0, 3.25], dtype=np.float32))
check_written("written_0d.npy", "<f4", np.array(42.5, dtype=np.float32))
check_written("written_empty.npy", "<i8", np.zeros((0, 5), dtype=np.int64))
print("datasets crosscheck: %d manifest cases, 5 written files OK" % len(manifest))
