#!/usr/bin/python3
"""The binding installs with pip into a venv, offline, and finds the library.

    python3 -m venv --system-site-packages V
    V/bin/pip install --no-build-isolation --no-index ./bindings/python

Run on a copy of bindings/python (pip builds in the tree). Checks:
- the install succeeds without network (--no-index) and bundles the built
  libcompress.so found through $LIBCOMPRESS_PATH at build time;
- in the venv, from another folder and with neither LIBCOMPRESS_PATH nor
  LC_BUILD_DIR set, `import shrink` loads that bundled copy and a call
  works (a 90% magnitude pruning keeps what numpy's sort keeps);
- with no library anywhere (the package alone on PYTHONPATH, lookups
  pointed at nothing), `import shrink` and `import shrink.torch` still
  succeed and the first call raises shrink.Error naming the fix
  (LIBCOMPRESS_PATH).
"""
import os
import shutil
import subprocess
import sys
import tempfile

SRC = os.environ.get("LC_SOURCE_DIR", os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
BUILD = os.environ.get("LC_BUILD_DIR", os.path.join(SRC, "build"))
LIB = os.path.abspath(os.path.join(BUILD, "libcompress.so"))
failures = []


def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what, flush=True)
    if not ok:
        failures.append(what)


PROBE = """
import numpy as np, shrink
w = np.random.RandomState(0).randn(30, 40).astype(np.float32)
m = shrink.prune_magnitude(w, 0.9)
keep = np.sort(np.abs(w).ravel())[-120:]
print(shrink._lib.lib._get()._name, int(m.sum()), bool(np.array_equal(np.sort(np.abs(w[m])), keep)))
"""

with tempfile.TemporaryDirectory() as tmp:
    pkg = os.path.join(tmp, "src")
    shutil.copytree(os.path.join(SRC, "bindings", "python"), pkg,
                    ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__", "libcompress.so*"))
    venv = os.path.join(tmp, "V")
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", venv], check=True)
    env = dict(os.environ, LIBCOMPRESS_PATH=LIB, PIP_NO_INDEX="1", PIP_DISABLE_PIP_VERSION_CHECK="1")
    r = subprocess.run([os.path.join(venv, "bin", "pip"), "install", "--no-build-isolation", "--no-index", pkg],
                       env=env, capture_output=True, text=True)
    check(r.returncode == 0, "pip install --no-build-isolation --no-index into the venv" +
          ("" if r.returncode == 0 else ": " + r.stderr[-800:]))
    clean = {k: v for k, v in os.environ.items() if k not in ("LIBCOMPRESS_PATH", "LC_BUILD_DIR", "PYTHONPATH")}
    r = subprocess.run([os.path.join(venv, "bin", "python"), "-c", PROBE], cwd=tmp, env=clean,
                       capture_output=True, text=True)
    out = r.stdout.split()
    check(r.returncode == 0 and len(out) == 3 and out[0].startswith(venv) and out[1:] == ["120", "True"],
          f"the venv's shrink loads its bundled library and prunes like numpy: {r.stdout.strip()} {r.stderr[-300:]}")

    bare = os.path.join(tmp, "bare")
    shutil.copytree(os.path.join(pkg, "shrink"), os.path.join(bare, "shrink"))
    env = dict(clean, PYTHONPATH=bare, LIBCOMPRESS_PATH=os.path.join(tmp, "nothing-here"))
    probe = ("import shrink, shrink.torch\n"
             "try:\n    shrink.version()\nexcept shrink.Error as e:\n    print('Error:', e)\n")
    r = subprocess.run([sys.executable, "-c", probe], cwd=tmp, env=env, capture_output=True, text=True)
    check(r.returncode == 0 and r.stdout.startswith("Error: libcompress.so not found") and
          "LIBCOMPRESS_PATH" in r.stdout, f"without a library: import works, the call says {r.stdout.strip()!r} "
          f"{r.stderr[-300:]}")

if failures:
    print(f"{len(failures)} check(s) failed")
    sys.exit(1)
print("all checks passed")
