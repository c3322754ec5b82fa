"""shrink run --sweep (issue 15 item 4) on the zoo LeNet-5 with small data
subsets (64 calibration, 500 validation images): one model per point from
one measurement.

Checks, against independent computations:
- each point that fits is written as OUT.LABEL.lcm, within its size
  (os.path.getsize against the size the point names: a ratio of the input
  file, or bytes), and the report's sweep entry has the file's path and
  size; its accuracy is the top-1 that `shrink eval` of the written file
  gives on the validation images (numpy on the predictions);
- a point nothing fits (1K) is not written, its entry says so, exit 1;
- the page outlines the sweep points in its size-vs-accuracy plot;
- the points' files carry no sweep point in their META (parsed from the
  .lcm by hand: header, section type and length varints, JSON): two
  points' META differ only in the accuracy figures;
- a second sweep (another thread count) writes the same bytes;
- bad --sweep lists exit 2 with one line and write nothing."""
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from auto_util import MODEL, SHRINK, ZOO, check, failures, predictions  # noqa: E402


def varint(b, i):
    v = shift = 0
    while True:
        c = b[i]
        i += 1
        v |= (c & 0x7F) << shift
        shift += 7
        if c < 0x80:
            return v, i


def lcm_meta(path):
    """The META section of a version-2 .lcm: after the 16-byte header, its
    type (1) and length as varints, then JSON text."""
    b = open(path, "rb").read()
    kind, i = varint(b, 16)
    n, i = varint(b, i)
    return json.loads(b[i:i + n]) if kind == 1 else None


def main():
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([sys.executable, os.path.join(ZOO, "make_test_data.py"), "--out", tmp, "--limit", "500",
                        "--calib", "64"], check=True, stdout=subprocess.DEVNULL)
        calib, x, y = (os.path.join(tmp, f) for f in ("calib_f32.npy", "test_f32.npy", "test_labels.npy"))
        labels = np.load(y)
        base = [SHRINK, "run", MODEL, "--calib", calib, "--val", x, "--labels", y, "--threads", "2", "--quiet"]
        out, rep, page = os.path.join(tmp, "m.lcm"), os.path.join(tmp, "r.json"), os.path.join(tmp, "r.html")
        r = subprocess.run(base + ["-o", out, "--sweep", "10x,20x,1K", "--report", rep, "--html", page],
                           capture_output=True, text=True)
        check(r.returncode == 1, f"a point nothing fits: exit 1 (got {r.returncode}: {r.stderr.strip()})")
        if not os.path.exists(rep):
            return 1
        report = json.load(open(rep))
        points = report.get("sweep", [])
        check(len(points) == 3, "the report lists 3 points")
        in_bytes = os.path.getsize(MODEL)
        for label, size, pt in zip(("10x", "20x", "1K"), (in_bytes // 10, in_bytes // 20, 1024), points):
            path = os.path.join(tmp, f"m.{label}.lcm")
            check(pt.get("target_bytes") == size, f"{label}: target {pt.get('target_bytes')} bytes (want {size})")
            if label == "1K":
                check(not pt["fits"] and not os.path.exists(path), "1K: nothing fits, nothing written")
                continue
            check(os.path.exists(path) and os.path.getsize(path) <= size,
                  f"{label}: {path} written within {size} bytes ({os.path.getsize(path) if os.path.exists(path) else '-'})")
            if not os.path.exists(path):
                continue
            check(pt.get("path") == path and pt.get("bytes") == os.path.getsize(path), f"{label}: report path and bytes")
            acc = 100 * float((predictions(path, x, tmp) == labels).mean())
            check(abs(acc - pt["accuracy"]) < 1e-9, f"{label}: accuracy {pt['accuracy']} is the file's ({acc})")
        metas = [lcm_meta(os.path.join(tmp, f"m.{l}.lcm")) for l in ("10x", "20x")
                 if os.path.exists(os.path.join(tmp, f"m.{l}.lcm"))]
        check(len(metas) == 2 and all(m and "recipe" in m for m in metas), "both points' files have a META section")
        if len(metas) == 2 and all(metas):
            check(all("target_size" not in m["recipe"].get("validate", {}) for m in metas),
                  "no validate.target_size in the points' META")
            for m in metas:  # what must differ: the point's measured accuracy
                for k in ("final", "drop"):
                    m["figures"]["accuracy"].pop(k, None)
            check(metas[0] == metas[1], "the two points' META differ only in the accuracy figures")
        html = open(page).read()
        check("sweep points (outlined)" in html and html.count("pt-chosen") >= 2, "the page outlines the sweep points")
        # determinism
        out2 = os.path.join(tmp, "n.lcm")
        subprocess.run(base + ["-o", out2, "--sweep", "10x,20x,1K", "--threads", "1"], capture_output=True)
        same = all(open(os.path.join(tmp, f"m.{l}.lcm"), "rb").read() == open(os.path.join(tmp, f"n.{l}.lcm"), "rb").read()
                   for l in ("10x", "20x") if os.path.exists(os.path.join(tmp, f"m.{l}.lcm")))
        check(same, "a second sweep (1 thread) writes the same bytes")
        for bad in ("abc", ",", "10x,", "0.5x", "", "10x;20x"):
            r = subprocess.run(base + ["-o", os.path.join(tmp, "b.lcm"), "--sweep", bad], capture_output=True, text=True)
            msg = r.stderr.strip()
            check(r.returncode == 2 and len(msg.splitlines()) == 1 and "--sweep" in msg and
                  not any(f.startswith("b.") for f in os.listdir(tmp)), f"--sweep {bad!r}: exit {r.returncode}, {msg!r}")
    print("failures:", failures)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
