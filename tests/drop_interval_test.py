#!/usr/bin/python3
"""The confidence interval of an accuracy drop (pipeline/drop_interval.c,
issue 15): checked against an independent numpy/scipy version of
Newcombe's paired interval (method 10), by its coverage in simulation
(paired samples drawn with a known true drop), and the fewest samples it
needs for a budget against a scipy search.

The pipeline side: `shrink run --confidence 0.95` reports accuracy.drop_ci
equal to the numpy version computed from both models' per-image
predictions (`shrink eval --out`), also after several passes backed off
(the run takes it from the result's own validation instead of predicting
again), keeps the budget on the upper end,
refuses a validation set too small for the budget (naming the samples the
scipy search finds), and refuses a confidence outside [0, 1).

argv[1]: interval_tool. Environment: SHRINK, LC_SOURCE_DIR.
"""
import json
import os
import tempfile
import subprocess
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from paired_interval import newcombe  # noqa: E402

TOOL = sys.argv[1]
failures = []


def fail(msg):
    failures.append(msg)
    print("FAIL:", msg, flush=True)


def tool(lines):
    r = subprocess.run([TOOL], input="\n".join(lines) + "\n", capture_output=True, text=True, check=True)
    return [list(map(float, l.split())) for l in r.stdout.splitlines()]


def main():
    rng = np.random.default_rng(1)
    # 1. against the independent version, on random and edge tables
    tables = [(1800, 20, 10, 170), (2000, 0, 0, 0), (0, 0, 0, 50), (1990, 10, 0, 0), (1000, 0, 30, 970), (5, 3, 1, 1)]
    for _ in range(300):
        n = int(rng.integers(1, 5000))
        t = rng.multinomial(n, rng.dirichlet([5, 1, 1, 2]))
        tables.append(tuple(int(x) for x in t))
    confs = [0.95, 0.9, 0.99, 0.5]
    lines, want = [], []
    for i, t in enumerate(tables):
        conf = confs[i % len(confs)]
        lines.append(f"{conf} {t[0]} {t[1]} {t[2]} {t[3]}")
        want.append(newcombe(*t, conf))
    got = tool(lines)
    worst = max(max(abs(g[0] - w[0]), abs(g[1] - w[1])) for g, w in zip(got, want))
    if worst > 1e-7:
        fail(f"interval differs from the numpy/scipy version by {worst:g} points")
    print(f"{len(tables)} tables: largest difference from numpy/scipy {worst:.2g} points")
    # 2. coverage: paired verdicts with a known true drop
    sims, n = 1500, 2000
    for p_both, p_f, p_c in ((0.85, 0.012, 0.006), (0.88, 0.004, 0.0), (0.5, 0.05, 0.05)):
        true_drop = 100 * (p_f - p_c)
        probs = [p_both, p_f, p_c, 1 - p_both - p_f - p_c]
        draws = rng.multinomial(n, probs, size=sims)
        res = tool([f"0.95 {a} {b} {c} {d}" for a, b, c, d in draws])
        covered = np.mean([lo <= true_drop <= hi for lo, hi in res])
        upper_ok = np.mean([true_drop <= hi for lo, hi in res])
        print(f"true drop {true_drop:.2f}: 95% interval covers it in {100 * covered:.1f}% of {sims} draws,"
              f" the upper end in {100 * upper_ok:.1f}%")
        if covered < 0.93:
            fail(f"coverage {covered:.3f} at true drop {true_drop}")
    # 3. fewest samples: agreement (100%) with a 0.5-point budget at 95%
    for conf, budget, acc in ((0.95, 0.5, 100.0), (0.95, 1.0, 100.0), (0.9, 0.5, 90.0)):
        want = None
        for m in range(1, 20000):
            right = int(round(acc / 100 * m))
            if newcombe(right, 0, 0, m - right, conf)[1] <= budget:
                want = m
                break
        got = int(tool([f"min {conf} {budget} {acc}"])[0][0])
        print(f"fewest samples for a {budget}-point budget at {conf} ({acc}%): {got} (scipy search: {want})")
        if got != want:
            fail(f"min samples {got}, scipy search {want}")
    pipeline_checks()
    print(f"{len(failures)} failure(s)")
    return 1 if failures else 0


def predictions(shrink, model, data, out):
    subprocess.run([shrink, "eval", model, "--data", data, "--out", out], check=True, capture_output=True)
    return np.load(out).reshape(np.load(out).shape[0], -1).argmax(1)


def pipeline_checks():
    shrink, src = os.environ["SHRINK"], os.environ["LC_SOURCE_DIR"]
    zoo = os.path.join(src, "benchmarks", "zoo")
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([sys.executable, os.path.join(zoo, "make_test_data.py"), "--out", tmp, "--limit", "1000",
                        "--calib", "64"], check=True, stdout=subprocess.DEVNULL)
        x, y = os.path.join(tmp, "test_f32.npy"), os.path.join(tmp, "test_labels.npy")
        base = [shrink, "run", os.path.join(zoo, "lenet5.onnx"), "--calib", os.path.join(tmp, "calib_f32.npy"), "--val",
                x, "--labels", y, "--quiet", "--pass", "prune-magnitude:sparsity=0.7", "--max-drop", "0.5"]
        out, rep = os.path.join(tmp, "m.onnx"), os.path.join(tmp, "r.json")
        r = subprocess.run(base + ["-o", out, "--report", rep, "--confidence", "0.95"], capture_output=True, text=True)
        if r.returncode not in (0, 1):
            fail(f"run --confidence 0.95: exit {r.returncode}: {r.stderr.strip()}")
            return
        acc = json.load(open(rep))["accuracy"]
        labels = np.load(y)
        pf = predictions(shrink, os.path.join(zoo, "lenet5.onnx"), x, os.path.join(tmp, "f.npy"))
        pc = predictions(shrink, out, x, os.path.join(tmp, "c.npy"))
        f, c = pf == labels, pc == labels
        table = (int((f & c).sum()), int((f & ~c).sum()), int((~f & c).sum()), int((~f & ~c).sum()))
        want = newcombe(*table, 0.95)
        got = acc.get("drop_ci")
        print(f"run --confidence 0.95: verdict table {table}, drop_ci {got}, numpy {want}")
        if not got or max(abs(got[0] - want[0]), abs(got[1] - want[1])) > 1e-9:
            fail(f"report drop_ci {got} differs from numpy's {want}")
        elif r.returncode == 0 and got[1] > 0.5 + 1e-9:
            fail(f"budget kept on the upper end, but the upper end {got[1]} is over 0.5")
        # several passes, backed off, the result possibly from the first of
        # two attempts: the interval the run took from the result's own
        # validation is the one its predictions give afresh
        out3, rep3 = os.path.join(tmp, "m3.onnx"), os.path.join(tmp, "r3.json")
        r = subprocess.run(base[:-4] + ["--pass", "prune-hessian:sparsity=0.9", "--pass", "quantize-kmeans:bits=2",
                                        "--pass", "huffman", "--max-drop", "0.3", "-o", out3, "--report", rep3],
                           capture_output=True, text=True)
        if r.returncode not in (0, 1):
            fail(f"run of three passes: exit {r.returncode}: {r.stderr.strip()}")
            return
        rep = json.load(open(rep3))
        p3 = predictions(shrink, out3, x, os.path.join(tmp, "c3.npy"))
        c3 = p3 == labels
        table3 = (int((f & c3).sum()), int((f & ~c3).sum()), int((~f & c3).sum()), int((~f & ~c3).sum()))
        want3, got3 = newcombe(*table3, 0.95), rep["accuracy"].get("drop_ci")
        outcomes = [(q["name"], q["outcome"]) for q in rep["passes"]]
        print(f"run of three passes ({rep.get('budget_split')}: {outcomes}): verdict table {table3}, "
              f"drop_ci {got3}, numpy {want3}")
        if not any(o != "applied" for _, o in outcomes):
            fail(f"run of three passes: nothing backed off ({outcomes}): the check needs a back-off")
        if not got3 or max(abs(got3[0] - want3[0]), abs(got3[1] - want3[1])) > 1e-9:
            fail(f"report drop_ci {got3} differs from numpy's {want3} (the result's predictions)")
        # too small a validation set for the budget: the error names how many are needed
        fa = 100 * float(f.mean())  # the float model's top-1, as the pipeline measured it
        need = next(m for m in range(1, 20000)
                    if newcombe(int(np.floor(fa / 100 * m + 0.5)), 0, 0, m - int(np.floor(fa / 100 * m + 0.5)), 0.95)[1]
                    <= 0.1)
        r = subprocess.run([a if a != "0.5" else "0.1" for a in base] + ["-o", out, "--confidence", "0.95"],
                           capture_output=True, text=True)
        msg = r.stderr.strip()
        if r.returncode != 2 or f"at least {need}" not in msg or len(msg.splitlines()) != 1:
            fail(f"small validation set: exit {r.returncode}, {msg!r} (want 'at least {need}')")
        for bad in ("1", "-0.1", "x"):
            r = subprocess.run(base + ["-o", out, "--confidence", bad], capture_output=True, text=True)
            if r.returncode != 2 or "--confidence" not in r.stderr:
                fail(f"--confidence {bad}: exit {r.returncode}, {r.stderr.strip()!r}")


if __name__ == "__main__":
    sys.exit(main())
