#!/usr/bin/python3
"""Layering (DESIGN.md section 2): dependencies point one way.

Each object file of the library belongs to a layer by its source folder.
For every symbol an object uses (`nm -u`) and another object defines, the
defining object's layer must be one the user's layer may call. A lower
layer calling a higher one (say the core calling the .lcm writer) fails
the test with the caller, the callee and the symbol.

Environment: LC_BUILD_DIR (the build tree, for its object files),
LC_SOURCE_DIR (the source tree).
"""
import os
import subprocess
import sys

# folder prefix -> layer, most specific first
LAYER_OF = [
    ("libcompress/core/", "core"),
    ("libcompress/exec/", "exec"),
    ("libcompress/ops/", "exec"),
    ("libcompress/algo/", "algo"),
    ("formats/", "formats"),
    ("datasets/", "datasets"),
    ("passes/", "passes"),
    ("pipeline/", "pipeline"),
]
# layer -> the layers it may call (itself included)
ALLOWED = {
    "core": {"core"},
    "exec": {"core", "exec"},
    "algo": {"core", "exec", "algo"},
    "formats": {"core", "formats"},
    "datasets": {"core", "datasets"},
    "passes": {"core", "exec", "algo", "passes"},
    "pipeline": {"core", "exec", "algo", "formats", "datasets", "passes", "pipeline"},
}


def layer(rel):
    for prefix, name in LAYER_OF:
        if rel.startswith(prefix):
            return name
    return None


def symbols(obj, flag):
    out = subprocess.run(["nm", flag, obj], check=True, capture_output=True, text=True).stdout
    names = set()
    for line in out.splitlines():
        parts = line.split()
        if not parts:
            continue
        if flag == "-u":
            names.add(parts[-1])
        elif len(parts) == 3 and parts[1] in "TDBRVW" and parts[1].isupper():
            names.add(parts[2])
    return names


def main():
    build = os.environ["LC_BUILD_DIR"]
    src = os.environ.get("LC_SOURCE_DIR", os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    root = os.path.join(build, "CMakeFiles", "lc_objects.dir")
    objs = {}
    for d, _, files in os.walk(root):
        for f in files:
            if f.endswith(".c.o"):
                full = os.path.join(d, f)
                rel = os.path.relpath(full, root)[:-2]  # path of the .c file
                if os.path.exists(os.path.join(src, rel)):  # skip objects of moved or deleted sources
                    objs[rel] = full
    if len(objs) < 50:
        print(f"FAIL: only {len(objs)} objects under {root}")
        return 1
    unknown = [r for r in objs if layer(r) is None]
    if unknown:
        print("FAIL: sources outside every layer:", ", ".join(sorted(unknown)))
        return 1
    defined = {}
    for rel, full in objs.items():
        for s in symbols(full, "--defined-only"):
            defined[s] = rel
    bad = []
    edges = 0
    for rel, full in sorted(objs.items()):
        me = layer(rel)
        for s in sorted(symbols(full, "-u")):
            callee = defined.get(s)
            if callee is None:
                continue
            edges += 1
            if layer(callee) not in ALLOWED[me]:
                bad.append(f"{rel} ({me}) -> {callee} ({layer(callee)}): {s}")
    for b in bad:
        print("FAIL:", b)
    print(f"{len(objs)} objects, {edges} cross-object references checked, {len(bad)} against the layering")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
