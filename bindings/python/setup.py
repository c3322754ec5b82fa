"""Installs the `shrink` package (pure Python over ctypes; see pyproject.toml).

    python3 -m venv --system-site-packages V
    V/bin/pip install --no-build-isolation ./bindings/python

When a built libcompress.so is found at build time ($LIBCOMPRESS_PATH, the
file or its folder, else the source tree's build/ folder) a copy goes into
the package as package data, so the installed binding needs nothing else.
Without one the package installs all the same and finds the library at run
time (find_library, pkg-config; see shrink/_lib.py).
"""
import glob
import os
import shutil

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = os.path.dirname(os.path.abspath(__file__))


def built_library():
    env = os.environ.get("LIBCOMPRESS_PATH")
    cands = []
    if env:
        cands.append(os.path.join(env, "libcompress.so") if os.path.isdir(env) else env)
    root = os.path.normpath(os.path.join(HERE, "..", ".."))
    cands += [os.path.join(root, "build", "libcompress.so")]
    cands += sorted(glob.glob(os.path.join(root, "build*", "libcompress.so")))
    for c in cands:
        if os.path.isfile(c):
            return os.path.realpath(c)
    return None


class BuildWithLibrary(build_py):
    def run(self):
        super().run()
        lib = built_library()
        if lib:
            dest = os.path.join(self.build_lib, "shrink", "libcompress.so")
            shutil.copyfile(lib, dest)
            print(f"bundled {lib} as {dest}")


setup(cmdclass={"build_py": BuildWithLibrary})
