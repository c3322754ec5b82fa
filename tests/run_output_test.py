"""What a person sees of `shrink run` (issue 19).

1. The demo's own command line (the `shrink run` line of scripts/demo.sh:
   auto mode, on the data make_test_data.py writes split as the demo
   splits it, into a scratch folder) and a recipe run (the
   deep_compression recipe with a budget, whose report has attempts and
   back-off) run under a pseudo-terminal (util-linux `script`), so
   progress lines are drawn as a user would see them. The screen each
   leaves (carriage returns and erase-line sequences applied) must fit 40
   lines, none wider than 100 columns, and name the passes and the summary
   figures.
2. Their reports must add up against the file on disk: the report's
   output bytes and the last pass's are the file's; layer bytes + overhead
   = the file. For the recipe run also: exactly one configuration tried is
   marked final, and it is the last pass's kept one with the final
   accuracy; rows marked kept belong to the final attempt only, one per
   pass that was not skipped; the attempts are labelled and one is final.
   For the demo: the report says auto mode, and its drop's upper end is
   within the budget.
3. `shrink report R.json` prints the same pass lines and summary from the
   JSON alone.
"""
import json
import os
import re
import shlex
import subprocess
import sys

SHRINK = os.environ["SHRINK"]
SRC = os.environ["LC_SOURCE_DIR"]
WORK = os.path.join(os.environ["LC_BUILD_DIR"], "run-output")
failures = 0


def check(ok, what):
    global failures
    print(("ok   " if ok else "FAIL ") + what)
    failures += not ok


def split_data(data):
    """The demo's split of the test set: validation = the first 2,000."""
    import numpy as np
    x, y = np.load(os.path.join(data, "test_u8.npy")), np.load(os.path.join(data, "test_labels.npy"))
    np.save(os.path.join(data, "val_u8.npy"), x[:2000])
    np.save(os.path.join(data, "val_labels.npy"), y[:2000])


def recipe_argv(data, out):
    """A recipe run with a budget (attempts, back-off)."""
    return [SHRINK, "run", os.path.join(SRC, "benchmarks", "zoo", "lenet5.onnx"), "-o", os.path.join(out, "lenet5.lcm"),
            "--recipe", os.path.join(SRC, "benchmarks", "recipes", "deep_compression.json"),
            "--calib", os.path.join(data, "calib_u8.npy"), "--val", os.path.join(data, "test_u8.npy"),
            "--labels", os.path.join(data, "test_labels.npy"), "--mean", "0.2860", "--std", "0.3530", "--seed", "0",
            "--report", os.path.join(out, "report.json"), "--html", os.path.join(out, "report.html")]


def demo_argv(data, out):
    """The demo's `shrink run` command with $root/$data substituted."""
    text = open(os.path.join(SRC, "scripts", "demo.sh")).read().replace("\\\n", " ")
    line = next(l for l in text.splitlines() if '/build/shrink" run' in l)
    line = line.replace('"$root/build/shrink"', SHRINK).replace("$root", SRC).replace("$data", data)
    argv = shlex.split(line)
    # outputs into the scratch folder
    for flag, name in (("-o", "lenet5.lcm"), ("--report", "report.json")):
        argv[argv.index(flag) + 1] = os.path.join(out, name)
    return argv + ["--html", os.path.join(out, "report.html")]


def screen(raw):
    """The lines a terminal shows after `raw`: \\r returns to column 0,
    ESC[K erases to the end of the line, other escapes draw nothing."""
    lines, cur, col = [], [], 0
    i = 0
    while i < len(raw):
        c = raw[i]
        if c == "\x1b":
            m = re.match(r"\x1b\[[0-9;?]*([A-Za-z])", raw[i:])
            if m:
                if m.group(1) == "K":
                    del cur[col:]
                i += len(m.group(0))
                continue
        if c == "\n":
            lines.append("".join(cur))
            cur, col = [], 0
        elif c == "\r":
            col = 0
        else:
            if col < len(cur):
                cur[col] = c
            else:
                cur.append(c)
            col += 1
        i += 1
    if cur:
        lines.append("".join(cur))
    return lines


def pty_screen(argv, env):
    """Runs argv under a pseudo-terminal; (exit code, raw text, screen lines)."""
    typescript = os.path.join(WORK, "typescript")
    res = subprocess.run(["script", "-q", "-e", "-c", shlex.join(argv), typescript], env=env,
                         capture_output=True, text=True, errors="replace", stdin=subprocess.DEVNULL)
    raw = open(typescript, encoding="utf-8", errors="replace", newline="").read()
    raw = re.sub(r"^Script started.*\n", "", raw)
    raw = re.sub(r"\n?Script done.*\n?$", "", raw)
    shown = screen(raw.replace("\r\n", "\n"))
    while shown and not shown[-1].strip():
        shown.pop()
    print("\n".join("  | " + l for l in shown))
    return res.returncode, raw, shown


def check_screen(what, code, raw, shown, needles):
    check(code == 0, f"{what} under a pseudo-terminal exits 0 (got {code})")
    check(len(shown) <= 40, f"{what}: default output fits 40 lines: {len(shown)}")
    wide = [l for l in shown if len(l) > 100]
    check(not wide, f"{what}: every line fits 100 columns ({len(wide)} wider)")
    check("\r" in raw and "%" in raw, f"{what}: progress lines were drawn on the terminal")
    text = "\n".join(shown)
    for needle in needles:
        check(needle in text, f"{what}: the screen mentions {needle!r}")
    check("nan" not in text.lower().replace("nanos", ""), f"{what}: no 'nan' on the screen")


def check_sizes(what, rep, size):
    check(rep["output"]["bytes"] == size, f"{what}: report output bytes {rep['output']['bytes']} = file {size}")
    check(rep["passes"][-1]["bytes"] == size, f"{what}: last pass's bytes {rep['passes'][-1]['bytes']} = file {size}")
    layers = sum(l["bytes_after"] for l in rep["layers"])
    check(layers + rep["overhead"]["total"] == size,
          f"{what}: layer bytes {layers} + overhead {rep['overhead']['total']} = file {size}")
    ov = rep["overhead"]
    check(ov["header"] + ov["meta"] + ov["graph"] + ov["other_tensors"] == ov["total"], f"{what}: overhead parts add up")
    check(rep["seconds"] > 0 and rep["cpu_seconds"] > 0, f"{what}: total wall and CPU seconds reported")
    check(rep["collapsed"] is False and rep["chance"] == 10, f"{what}: not collapsed; chance 10% for 10 classes")


def check_report_cmd(shown, env):
    again = subprocess.run([SHRINK, "report", os.path.join(WORK, "report.json")], capture_output=True, text=True,
                           env=env)
    pass_lines = [l for l in shown if re.match(r"\s+\d+ \S", l) or l.startswith(" " * 22)]
    check(again.returncode == 0 and all(l in again.stdout for l in pass_lines),
          f"shrink report prints the run's {len(pass_lines)} pass lines")


def main():
    data = os.path.join(WORK, "data")
    os.makedirs(data, exist_ok=True)
    if not os.path.exists(os.path.join(data, "test_u8.npy")):
        subprocess.run([sys.executable, os.path.join(SRC, "benchmarks", "zoo", "make_test_data.py"), "--out", data],
                       check=True, stdout=subprocess.DEVNULL)
    split_data(data)
    env = dict(os.environ, LANG="C.UTF-8", LC_ALL="C.UTF-8", COLUMNS="100", LINES="50")

    # the demo: auto mode
    code, raw, shown = pty_screen(demo_argv(data, WORK), env)
    check_screen("the demo", code, raw, shown, ("auto", "budget", "wall", "CPU", "report.json", "x smaller", "at 95%"))
    rep = json.load(open(os.path.join(WORK, "report.json")))
    check_sizes("the demo", rep, os.path.getsize(os.path.join(WORK, "lenet5.lcm")))
    check(rep.get("target", {}).get("mode") == "auto", "the demo's report says auto mode")
    hi = rep["accuracy"]["drop_ci"][1]
    check(hi <= 0.5, f"the demo's drop interval's upper end {hi} is within the 0.5 budget")
    check_report_cmd(shown, env)

    # a recipe with a budget: attempts and back-off
    code, raw, shown = pty_screen(recipe_argv(data, WORK), env)
    check_screen("the recipe run", code, raw, shown, ("prune-hessian", "quantize-kmeans", "huffman", "budget", "wall",
                                                      "CPU", "report.json", "report.html", "x smaller"))
    rep = json.load(open(os.path.join(WORK, "report.json")))
    size = os.path.getsize(os.path.join(WORK, "lenet5.lcm"))
    check_sizes("the recipe run", rep, size)
    passes = rep["passes"]
    final = [t for t in rep["tried"] if t.get("final")]
    check(len(final) == 1, f"exactly one configuration marked final ({len(final)})")
    split = rep["budget_split"]
    labels = [a["label"] for a in rep["attempts"]]
    check(labels[0] == "greedy" and len(labels) == len(set(labels)) and split in labels,
          f"attempts labelled {labels}, final {split}")
    check([a["label"] for a in rep["attempts"] if a["final"]] == [split], "exactly one attempt is final")
    if final:
        f = final[0]
        check(f["attempt"] == split and f["step"] == len(passes) and f["bytes"] == size
              and f["accuracy"] == rep["accuracy"]["final"], "the final configuration is the last pass's, as written")
    kept = [t for t in rep["tried"] if t.get("kept")]
    check(all(t["attempt"] == split for t in kept), "only the final attempt's configurations are marked kept")
    want = [i + 1 for i, p in enumerate(passes) if p["outcome"] != "skipped"]
    check(sorted(t["step"] for t in kept) == want, f"one kept configuration per pass applied ({len(kept)})")
    for t in kept:
        p = passes[t["step"] - 1]
        check(t["params"] == p["params"] and t["bytes"] == p["bytes"] and t["accuracy"] == p["accuracy"],
              f"kept row of step {t['step']} is the pass's result")
    check(all(p["attempt"] == split for p in passes), "the passes listed are the final attempt's")
    check_report_cmd(shown, env)
    print(f"{failures} failure(s)")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
