#!/usr/bin/python3
"""Backward compatibility of .lcm (issue 15): files of formats 1.0 and 2.0,
written by the last writer of each (tests/data/lcm_v1/make_fixtures.py at
commits 600365d and 33287da; tests/data/lcm_v1 and tests/data/lcm_v2) and
covering every store kind, both sparsity streams and both codings, still
load:

- `shrink decode` of each gives byte for byte the ONNX the old reader gave
  (its sha256 was recorded with the fixtures);
- re-written by today's writer (format 3.0: `lcm_tool encode OLD NEW`), the
  file decodes to the same ONNX bytes again and is smaller (1.0) or no
  larger (2.0);
- every truncation and every flipped byte of an old file is refused cleanly
  (exit 2, one line naming the file), never accepted or crashed.

Environment: SHRINK, LC_SOURCE_DIR; argv[1]: lcm_tool.
"""
import hashlib
import os
import subprocess
import sys
import tempfile

SHRINK = os.environ["SHRINK"]
SRC = os.environ["LC_SOURCE_DIR"]
TOOL = sys.argv[1]
FIXTURES = {1: os.path.join(SRC, "tests", "data", "lcm_v1"), 2: os.path.join(SRC, "tests", "data", "lcm_v2")}
failures = []


def fail(msg):
    failures.append(msg)
    print("FAIL:", msg, flush=True)


def sha(path):
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


def main():
    for major, fix in sorted(FIXTURES.items()):
        check_fixtures(major, fix)
    print(f"{len(failures)} failure(s)")
    return 1 if failures else 0


def check_fixtures(major, FIX):
    import json
    expected = json.load(open(os.path.join(FIX, "expected.json")))
    with tempfile.TemporaryDirectory() as tmp:
        for name, digest in sorted(expected.items()):
            old = os.path.join(FIX, name)
            data = open(old, "rb").read()
            if data[8:10] != bytes([major, 0]):
                fail(f"{name}: not a format {major}.0 file")
            dec = os.path.join(tmp, name + ".onnx")
            r = subprocess.run([SHRINK, "decode", old, "-o", dec], capture_output=True, text=True)
            if r.returncode != 0:
                fail(f"{name}: decode failed: {r.stderr.strip()}")
                continue
            if sha(dec) != digest:
                fail(f"{name}: decodes to other ONNX bytes than the 1.0 reader gave")
            new = os.path.join(tmp, name)
            r = subprocess.run([TOOL, "encode", old, new], capture_output=True, text=True)
            if r.returncode != 0:
                fail(f"{name}: re-encoding failed: {r.stderr.strip()}")
                continue
            if open(new, "rb").read()[8:10] != b"\x03\x00":
                fail(f"{name}: the writer did not write format 3.0")
            dec2 = os.path.join(tmp, name + ".2.onnx")
            subprocess.run([SHRINK, "decode", new, "-o", dec2], check=True, capture_output=True)
            if sha(dec2) != digest:
                fail(f"{name}: the 3.0 re-encoding decodes to other ONNX bytes")
            print(f"{name}: {len(data)} bytes as {major}.0, {os.path.getsize(new)} as 3.0")
            if os.path.getsize(new) > len(data) or (major == 1 and os.path.getsize(new) == len(data)):
                fail(f"{name}: 3.0 is larger than {major}.0")
        # damaged 1.0 files: refused with one line naming the file
        base = open(os.path.join(FIX, "kmeans_huffman.lcm"), "rb").read()
        bad = os.path.join(tmp, "bad.lcm")
        cases = [base[:n] for n in range(0, len(base), 97)]
        for i in range(0, len(base), 53):
            b = bytearray(base)
            b[i] ^= 0x5A
            cases.append(bytes(b))
        refused = 0
        for c in cases:
            open(bad, "wb").write(c)
            r = subprocess.run([SHRINK, "info", bad], capture_output=True, text=True)
            lines = r.stderr.strip().splitlines()
            if r.returncode != 2 or len(lines) != 1 or "bad.lcm" not in lines[0]:
                fail(f"damaged {major}.0 file: exit {r.returncode}, stderr {r.stderr.strip()[:200]!r}")
            else:
                refused += 1
        print(f"{refused} of {len(cases)} damaged {major}.0 files refused cleanly")


if __name__ == "__main__":
    sys.exit(main())
