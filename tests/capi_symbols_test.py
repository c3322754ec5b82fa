"""The shared library exports exactly the functions libcompress.h declares:
every declared function is a defined dynamic symbol of libcompress.so, and
no other symbol (internal lc_ helpers, protobuf-c code) is exported."""
import os
import re
import subprocess
import sys

src = os.environ["LC_SOURCE_DIR"]
build = os.environ["LC_BUILD_DIR"]

text = open(os.path.join(src, "libcompress/include/libcompress.h")).read()
# and the topical public headers it includes (#include "lc_*.h")
for inc in re.findall(r'^#include "(lc_[A-Za-z0-9_]+\.h)"', text, flags=re.M):
    text += open(os.path.join(src, "libcompress/include", inc)).read()
text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)   # comments (and the example in them)
text = re.sub(r"//[^\n]*", " ", text)
text = re.sub(r"^\s*#[^\n]*", " ", text, flags=re.M)  # preprocessor lines
# a function declaration: "<type> name(" at statement level; function
# pointer typedefs ("(*name)(") do not match
declared = set()
for stmt in text.split(";"):
    m = re.search(r"(?:^|[\s*])(lc_[A-Za-z0-9_]+)\s*\(", stmt)
    if m and "typedef" not in stmt:
        declared.add(m.group(1))

out = subprocess.run(["nm", "-D", "--defined-only", os.path.join(build, "libcompress.so")],
                     check=True, capture_output=True, text=True).stdout
exported = {line.split()[-1] for line in out.splitlines() if line.split()[1] in "TDBRVWiu"}
exported = {s.split("@")[0] for s in exported}

missing = sorted(declared - exported)
extra = sorted(exported - declared)
print(f"{len(declared)} functions declared, {len(exported)} symbols exported")
ok = True
if missing:
    print("declared in libcompress.h but not exported:", " ".join(missing))
    ok = False
if extra:
    print("exported but not declared in libcompress.h:", " ".join(extra))
    ok = False
if len(declared) < 100:
    print("suspiciously few declarations parsed from the header")
    ok = False

# the static library keeps the internal symbols the Check suites link against
out = subprocess.run(["nm", "--defined-only", os.path.join(build, "libcompress.a")],
                     check=True, capture_output=True, text=True).stdout
if not re.search(r" T lc_fail$", out, flags=re.M):
    print("libcompress.a lacks the internal lc_fail")
    ok = False
sys.exit(0 if ok else 1)
