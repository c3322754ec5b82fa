"""shrink run in auto mode (--max-drop without --recipe/--pass/--target-size,
issue 15) end to end on the zoo LeNet-5 with small data subsets
(64 calibration, 1,000 validation images).

Checks, against independent computations:
- the written file is within the budget: both models' predictions from
  `shrink eval` on the validation images, the paired 95% interval of the
  drop computed with numpy/scipy (Newcombe's): its upper end is within
  --max-drop, and it equals the report's accuracy.drop_ci; the report says
  auto mode (target.mode) and that the budget was judged on the upper end;
- it is smaller than the fixed joint.lenet5 recipe at the same budget
  and confidence;
- two runs give byte-identical files;
- bad input exits 2 with one line: no --calib, no --val, a validation set
  too small for the interval, a target size with auto mode (through a
  recipe); --confidence 0 judges the point estimate."""
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from paired_interval import newcombe, table  # noqa: E402

from auto_util import MODEL, SHRINK, SRC, ZOO, check, failures, predictions  # noqa: E402

BUDGET = 1.5


def correct(model, x, labels, tmp):
    return predictions(model, x, tmp) == labels


def main():
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([sys.executable, os.path.join(ZOO, "make_test_data.py"), "--out", tmp, "--limit", "1000",
                        "--calib", "64"], check=True, stdout=subprocess.DEVNULL)
        calib, x, y = (os.path.join(tmp, f) for f in ("calib_f32.npy", "test_f32.npy", "test_labels.npy"))
        labels = np.load(y)
        data = ["--calib", calib, "--val", x, "--labels", y, "--threads", "2", "--quiet"]
        auto = [SHRINK, "run", MODEL] + data + ["--max-drop", str(BUDGET)]
        out, rep = os.path.join(tmp, "a.lcm"), os.path.join(tmp, "a.json")
        r = subprocess.run(auto + ["-o", out, "--report", rep], capture_output=True, text=True)
        check(r.returncode == 0, f"auto mode exits 0 (got {r.returncode}: {r.stderr.strip()})")
        if r.returncode != 0:
            return 1
        report = json.load(open(rep))
        acc, tgt = report["accuracy"], report.get("target", {})
        check(tgt.get("mode") == "auto", "report target.mode is auto")
        check(acc.get("confidence") == 0.95 and acc.get("budget_on_upper_bound") is True,
              "auto mode judges the budget on the upper end of a 95% interval by default")
        check(report["output"]["bytes"] == os.path.getsize(out), "report output bytes are the file's")
        f, c = correct(MODEL, x, labels, tmp), correct(out, x, labels, tmp)
        verdicts = table(f, c)
        lo, hi = newcombe(*verdicts, 0.95)
        got = acc.get("drop_ci") or [float("nan")] * 2
        print(f"verdicts {verdicts}: numpy interval [{lo:.3f}, {hi:.3f}], report {got}, "
              f"{os.path.getsize(out)} bytes ({os.path.getsize(MODEL) / os.path.getsize(out):.1f}x)")
        check(hi <= BUDGET + 1e-9, f"upper end of the drop's interval {hi:.3f} within {BUDGET} (recomputed)")
        check(abs(got[0] - lo) < 1e-9 and abs(got[1] - hi) < 1e-9, "report drop_ci equals the numpy interval")
        check(abs(acc["drop"] - 100 * (f.mean() - c.mean())) < 1e-9, "report drop equals the recomputed drop")

        # a fixed recipe at the same budget and confidence
        fixed, frep = os.path.join(tmp, "f.lcm"), os.path.join(tmp, "f.json")
        r = subprocess.run([SHRINK, "run", MODEL] + data + ["--recipe", os.path.join(SRC, "benchmarks", "recipes",
                            "joint.lenet5.json"), "--max-drop", str(BUDGET), "--confidence", "0.95", "-o", fixed,
                            "--report", frep], capture_output=True, text=True)
        check(r.returncode in (0, 1) and os.path.exists(fixed), f"joint.lenet5 runs (exit {r.returncode})")
        if os.path.exists(fixed):
            fr = json.load(open(frep))
            within = fr["budget_met"] and fr["accuracy"]["drop_ci"][1] <= BUDGET + 1e-9
            print(f"joint.lenet5: {os.path.getsize(fixed)} bytes, within the budget: {within}")
            check(os.path.getsize(out) < os.path.getsize(fixed),
                  f"auto ({os.path.getsize(out)} B) smaller than joint.lenet5 ({os.path.getsize(fixed)} B)")

        # determinism
        out2 = os.path.join(tmp, "b.lcm")
        r = subprocess.run(auto + ["-o", out2, "--threads", "1"], capture_output=True, text=True)
        check(r.returncode == 0 and open(out, "rb").read() == open(out2, "rb").read(),
              "a second run (1 thread) writes the same bytes")

        # bad input: exit 2, one line
        def bad(args, want, what):
            r = subprocess.run([SHRINK, "run", MODEL, "-o", os.path.join(tmp, "bad.lcm")] + args,
                               capture_output=True, text=True)
            msg = r.stderr.strip()
            check(r.returncode == 2 and len(msg.splitlines()) == 1 and want in msg and
                  not os.path.exists(os.path.join(tmp, "bad.lcm")), f"{what}: exit {r.returncode}, {msg!r}")

        bad(["--val", x, "--labels", y, "--max-drop", "1"], "--calib", "auto mode without --calib")
        bad(["--calib", calib, "--max-drop", "1"], "--val", "auto mode without --val")
        bad(["--calib", calib, "--val", x, "--labels", y, "--val-limit", "200", "--max-drop", "0.5"],
            "at least", "a validation set too small for the interval")
        bad(["--calib", calib, "--val", x, "--labels", y, "--max-drop", "1", "--confidence", "1"], "--confidence",
            "--confidence 1")
        bad(["--calib", calib], "--max-drop", "no recipe, pass, target or budget")

        # --confidence 0: the point estimate, a smaller file
        p0 = os.path.join(tmp, "p.lcm")
        r = subprocess.run(auto + ["-o", p0, "--confidence", "0", "--report", rep], capture_output=True, text=True)
        a0 = json.load(open(rep))["accuracy"] if r.returncode == 0 else {}
        check(r.returncode == 0 and a0.get("budget_on_upper_bound") is False and a0["drop"] <= BUDGET + 1e-9,
              f"--confidence 0 keeps the point estimate within the budget (drop {a0.get('drop')})")
        if r.returncode == 0:
            check(os.path.getsize(p0) <= os.path.getsize(out), "the point estimate's file is no larger")
    print("failures:", failures)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
