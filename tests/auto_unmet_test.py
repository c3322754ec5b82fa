"""shrink run in auto mode when nothing holds the budget (issue 15): the
most accurate candidate is still written, exit 1 with one line, and the
report says the budget was not met.

The construct that guarantees it: the agreement metric (the float model's
own predictions are the labels, so no candidate beats it: the 2x2 table has
no "only the compressed model right" cell) with --max-drop 0 at 95%
confidence: the upper end of any candidate's interval is then > 0, even
for one that changes no prediction. The minimum-sample check passes (a
zero budget has no minimum), and the data are small (64 calibration, 300
validation images) to keep the run short, also under ASan.

Checks, against independent computations: the file's agreement with the
float model, from `shrink eval` of both and numpy, equals the report's
final accuracy and is the highest among the candidates the report lists;
the report's interval equals Newcombe's from numpy and its upper end is
above the budget; the report's bytes are the file's."""
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from paired_interval import newcombe, table  # noqa: E402

from auto_util import MODEL, SHRINK, ZOO, check, failures, predictions  # noqa: E402



def main():
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([sys.executable, os.path.join(ZOO, "make_test_data.py"), "--out", tmp, "--limit", "300",
                        "--calib", "64"], check=True, stdout=subprocess.DEVNULL)
        calib, x = os.path.join(tmp, "calib_f32.npy"), os.path.join(tmp, "test_f32.npy")
        out, rep = os.path.join(tmp, "a.lcm"), os.path.join(tmp, "a.json")
        r = subprocess.run([SHRINK, "run", MODEL, "--calib", calib, "--val", x, "--metric", "agreement",
                            "--max-drop", "0", "--confidence", "0.95", "--threads", "2", "--quiet", "-o", out,
                            "--report", rep], capture_output=True, text=True)
        msg = r.stderr.strip()
        check(r.returncode == 1, f"nothing within the budget: exit 1 (got {r.returncode})")
        check(len(msg.splitlines()) == 1 and "no candidate holds the accuracy budget" in msg and out in msg,
              f"one line naming the budget and the file: {msg!r}")
        if not (os.path.exists(out) and os.path.exists(rep)):
            check(False, "the file and the report are written")
            return 1
        report = json.load(open(rep))
        acc = report["accuracy"]
        check(report.get("budget_met") is False, "report budget_met is false")
        check(report.get("target", {}).get("mode") == "auto", "report target.mode is auto")
        check(report["output"]["bytes"] == os.path.getsize(out), "report output bytes are the file's")
        f, c = predictions(MODEL, x, tmp), predictions(out, x, tmp)
        same = f == c
        agree = 100 * float(same.mean())
        check(abs(acc["final"] - agree) < 1e-9, f"report accuracy {acc['final']} is the file's agreement ({agree})")
        lo, hi = newcombe(*table(np.ones_like(same), same), 0.95)
        got = acc.get("drop_ci") or [float("nan")] * 2
        check(abs(got[0] - lo) < 1e-9 and abs(got[1] - hi) < 1e-9,
              f"report drop_ci {got} equals the numpy interval [{lo:.4f}, {hi:.4f}]")
        check(hi > 0, f"the upper end {hi:.4f} is over the budget of 0")
        tried = [t for t in report.get("tried", []) if t.get("pass") == "target-size"]
        kept = [t for t in tried if t.get("kept")]
        best = max((t["accuracy"] for t in tried), default=float("nan"))
        print(f"candidates (bytes, accuracy): {[(t['bytes'], t['accuracy']) for t in tried]}")
        check(len(tried) >= 2 and len(kept) == 1 and kept[0]["bytes"] == os.path.getsize(out),
              "the report lists the candidates and marks the written one")
        check(abs(agree - best) < 1e-9, f"the written file is the most accurate candidate ({agree} vs {best})")
    print("failures:", failures)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
