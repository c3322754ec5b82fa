"""The public header: libcompress.h and the topical headers it includes
(libcompress/*.h, the experimental tier too).
- The shared library exports exactly the functions they declare: every
  declared function is a defined dynamic symbol of libcompress.so, and no
  other symbol (internal lc_ helpers, protobuf-c code) is exported.
- Every declared function has its own doc comment (/** ... */) right
  before it.
- libcompress/include holds libcompress.h and its parts only; every file
  under libcompress/include/libcompress/ is included by libcompress.h,
  refuses to be included alone, and stays under 900 lines.
- The version macros agree with lc_version() and lc_version_number() of
  the built library."""
import ctypes
import os
import re
import subprocess
import sys

src = os.environ["LC_SOURCE_DIR"]
build = os.environ["LC_BUILD_DIR"]
inc = os.path.join(src, "libcompress/include")
ok = True


def fail(msg):
    global ok
    print(msg)
    ok = False


main = open(os.path.join(inc, "libcompress.h")).read()
parts = re.findall(r"^#include <(libcompress/\w+\.h)>", main, flags=re.M)
on_disk = sorted("libcompress/" + f for f in os.listdir(os.path.join(inc, "libcompress")))
if sorted(parts) != on_disk:
    fail(f"libcompress.h includes {sorted(parts)}, the folder holds {on_disk}")
files = ["libcompress.h"] + parts
top = sorted(os.listdir(inc))
if top != ["libcompress", "libcompress.h"]:
    fail(f"libcompress/include holds {top}: public declarations go in libcompress.h's parts (libcompress/*.h)")


def statements(text):
    """(declaration text with its leading comments, function name) for every
    function declared at statement level; function pointer typedefs
    ("(*name)(") and macros do not count."""
    t = re.sub(r"^\s*#[^\n]*", lambda m: " " * len(m.group(0)), text, flags=re.M)
    start, i = 0, 0
    while i < len(t):
        if t.startswith("/*", i):
            i = t.index("*/", i) + 2
            continue
        if t.startswith("//", i):
            i = t.index("\n", i)
            continue
        if t[i] in ";{}":
            seg = t[start:i]
            code = re.sub(r"/\*.*?\*/", lambda m: " " * len(m.group(0)), seg, flags=re.S)
            m = re.search(r"(?:^|[\s*])(lc_[A-Za-z0-9_]+)\s*\(", code)
            if m and "typedef" not in code:
                yield seg[:len(code) - len(code.lstrip())], m.group(1)
            start = i + 1
        i += 1


declared = set()
for f in files:
    text = open(os.path.join(inc, f)).read()
    n_lines = text.count("\n")
    if n_lines > 900:
        fail(f"{f}: {n_lines} lines (at most 900)")
    if f != "libcompress.h" and f'#error "include <libcompress.h>, not <{f}>"' not in text:
        fail(f"{f}: does not refuse to be included without libcompress.h")
    for before, name in statements(text):
        declared.add(name)
        comments = re.findall(r"/\*.*?\*/", before, flags=re.S)
        if not comments or not comments[-1].startswith("/**"):
            fail(f"{f}: {name} has no doc comment (/** ... */) right before it")

out = subprocess.run(["nm", "-D", "--defined-only", os.path.join(build, "libcompress.so")],
                     check=True, capture_output=True, text=True).stdout
exported = {line.split()[-1] for line in out.splitlines() if line.split()[1] in "TDBRVWiu"}
exported = {s.split("@")[0] for s in exported}

missing = sorted(declared - exported)
extra = sorted(exported - declared)
print(f"{len(declared)} functions declared in {len(files)} headers, {len(exported)} symbols exported")
if missing:
    fail("declared in the public headers but not exported: " + " ".join(missing))
if extra:
    fail("exported but not declared in the public headers: " + " ".join(extra))
if len(declared) < 100:
    fail("suspiciously few declarations parsed from the headers")
# what 0.2 added and removed
for name in ("lc_version_number", "lc_write_guard_create", "lc_write_guard_free", "lc_write_guard_attach",
             "lc_write_guard_abort"):
    if name not in declared:
        fail(f"{name} is not declared")
if "lc_write_file_abort" in exported:
    fail("lc_write_file_abort (removed in 0.2) is still exported")

# version macros against the built library
macros = dict(re.findall(r"^#define LC_VERSION_(MAJOR|MINOR|PATCH|STRING) (\S+)$", main, flags=re.M))
lib = ctypes.CDLL(os.path.join(build, "libcompress.so"))
lib.lc_version.restype = ctypes.c_char_p
want_number = int(macros["MAJOR"]) * 10000 + int(macros["MINOR"]) * 100 + int(macros["PATCH"])
if lib.lc_version().decode() != macros["STRING"].strip('"'):
    fail(f"lc_version() is {lib.lc_version()!r}, the header says {macros['STRING']}")
if lib.lc_version_number() != want_number:
    fail(f"lc_version_number() is {lib.lc_version_number()}, the header's macros give {want_number}")
if macros["STRING"].strip('"') != f"{macros['MAJOR']}.{macros['MINOR']}.{macros['PATCH']}":
    fail(f"LC_VERSION_STRING {macros['STRING']} disagrees with MAJOR.MINOR.PATCH")

# the static library keeps the internal symbols the Check suites link against
out = subprocess.run(["nm", "--defined-only", os.path.join(build, "libcompress.a")],
                     check=True, capture_output=True, text=True).stdout
if not re.search(r" T lc_fail$", out, flags=re.M):
    fail("libcompress.a lacks the internal lc_fail")
sys.exit(0 if ok else 1)
