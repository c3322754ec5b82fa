#!/usr/bin/python3
"""The target-size and auto searches as jobs (issue 18): planned, run in
slices by different processes (GNU parallel through
benchmarks/cluster/parallel.sh, the Slurm array script) and merged, they
write the very .lcm one process writes (the reference: the same command
without jobs), and the same report but for its timings. The Kubernetes
Indexed Job's command, run for a few indices with its index variable, must
give the Slurm tasks' results. A sweep merges from the auto search's
results (the same recipe). Bad merges fail with exit 2 and one line: a
missing job, a job given twice, results of another study, a slice out of
range.

Environment: SHRINK, LC_SOURCE_DIR.
"""
import json
import os
import shutil
import subprocess
import sys

import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from jobs_util import CLUSTER, SHRINK, SRC, bad_result_dirs, fail, refused, run, run_test  # noqa: E402

TIMING = {"seconds", "cpu_seconds"}  # the report's timings: the only keys allowed to differ


def untimed(x):
    """The report without its timings and output path."""
    if isinstance(x, dict):
        return {k: untimed(v) for k, v in x.items() if k not in TIMING and k != "path"}
    if isinstance(x, list):
        return [untimed(v) for v in x]
    return x


def read(path, mode="rb"):
    with open(path, mode) as f:
        return f.read()


def check_study(tmp):
    # real data: the zoo LeNet-5 on 200 Fashion-MNIST test images
    data = os.path.join(tmp, "data")
    subprocess.run([sys.executable, os.path.join(SRC, "benchmarks", "zoo", "make_test_data.py"), "--out", data,
                    "--limit", "200", "--calib", "32"], check=True, stdout=subprocess.DEVNULL)
    shutil.copy(os.path.join(SRC, "benchmarks", "zoo", "lenet5.onnx"), os.path.join(tmp, "model.onnx"))
    for src, dst in (("test_f32.npy", "val.npy"), ("test_labels.npy", "labels.npy"), ("calib_f32.npy", "calib.npy")):
        shutil.copy(os.path.join(data, src), os.path.join(tmp, dst))
    common = ["--calib", "calib.npy", "--val", "val.npy", "--labels", "labels.npy", "--quiet"]
    searches = {
        "target": ["-o", "model.lcm", "--target-size", "12K"] + common,
        "auto": ["-o", "model.lcm", "--max-drop", "3"] + common,
    }
    singles = {}
    for name, args in searches.items():
        # one process: the reference
        run([SHRINK, "run", "model.onnx"] + args + ["--report", "report.json"], cwd=tmp)
        singles[name] = (read(os.path.join(tmp, "model.lcm")),
                         untimed(json.loads(read(os.path.join(tmp, "report.json"), "r"))))
        os.remove(os.path.join(tmp, "model.lcm"))
        os.remove(os.path.join(tmp, "report.json"))

    def check(name, what):
        lcm, report = singles[name]
        if read(os.path.join(tmp, "model.lcm")) != lcm:
            fail(f"{name}, {what}: the merged .lcm differs from the single process's")
        if untimed(json.loads(read(os.path.join(tmp, "report.json"), "r"))) != report:
            fail(f"{name}, {what}: the merged report differs from the single process's (timings aside)")
        os.remove(os.path.join(tmp, "model.lcm"))
        os.remove(os.path.join(tmp, "report.json"))

    # 1. GNU parallel (benchmarks/cluster/parallel.sh): 4 slices, 4 processes
    n_jobs = {}
    for name, args in searches.items():
        env = dict(os.environ, SHRINK=SHRINK, STUDY_ENV=os.path.join(CLUSTER, "target.env"), MODEL="model.onnx",
                   STUDY_ARGS=" ".join(args), JOB_DIR=f"par-{name}")
        run([os.path.join(CLUSTER, "parallel.sh"), "4"], env=env, cwd=tmp)
        plan = [json.loads(line) for line in read(os.path.join(tmp, f"par-{name}.jsonl"), "r").splitlines()]
        n = n_jobs[name] = len(plan)
        if n < 4 or [p["job"] for p in plan] != list(range(n)) or len({p["study"] for p in plan}) != 1:
            fail(f"{name}: plan of {n} jobs is not numbered 0..n-1 with one study")
        if len(os.listdir(os.path.join(tmp, f"par-{name}"))) != n:
            fail(f"{name}: GNU parallel did not write one result per job")
        check(name, "GNU parallel")
    # the auto search's results serve a sweep of the same recipe (auto mode's)
    sweep = [SHRINK, "run", "model.onnx", "-o", "model.lcm", "--sweep", "12K,9K"] + common
    run(sweep + ["--report", "single.json"], cwd=tmp)
    points = [read(os.path.join(tmp, f"model.{p}.lcm")) for p in ("12K", "9K")]
    run(sweep + ["--merge", "par-auto", "--report", "report.json"], cwd=tmp)
    if [read(os.path.join(tmp, f"model.{p}.lcm")) for p in ("12K", "9K")] != points:
        fail("sweep merged from the auto search's jobs: a point's .lcm differs from the single process's")
    if untimed(json.loads(read(os.path.join(tmp, "report.json"), "r"))) != \
            untimed(json.loads(read(os.path.join(tmp, "single.json"), "r"))):
        fail("sweep merged from the auto search's jobs: the report differs (timings aside)")
    n = n_jobs["target"]
    target = [SHRINK, "run", "model.onnx"] + searches["target"]
    # 2. the Slurm array script (target.env's search), one task per job index
    env = dict(os.environ, SHRINK=SHRINK, STUDY_ENV=os.path.join(CLUSTER, "target.env"), MODEL="model.onnx",
               JOB_DIR="slurm", SLURM_SUBMIT_DIR=SRC, SLURM_CPUS_PER_TASK="1")
    for k in range(n):
        run(["bash", os.path.join(CLUSTER, "slurm.sbatch")], env=dict(env, SLURM_ARRAY_TASK_ID=str(k)), cwd=tmp)
    run(target + ["--merge", "slurm", "--report", "report.json"], cwd=tmp)
    check("target", "Slurm array")
    # 3. the Kubernetes Indexed Job's container command, for some indices:
    #    the same results as the Slurm tasks', byte for byte
    job = yaml.safe_load(open(os.path.join(CLUSTER, "k8s-target-job.yaml")))
    spec = job["spec"]
    if job["kind"] != "Job" or spec["completionMode"] != "Indexed" or spec["completions"] != n:
        fail(f"k8s manifest: not an Indexed Job of {n} completions")
    c = spec["template"]["spec"]["containers"][0]
    script = c["args"][0].replace("exec shrink ", f"exec {SHRINK} ")
    for k in (0, n // 2, n - 1):
        run(c["command"] + [script], env=dict(os.environ, JOB_COMPLETION_INDEX=str(k)), cwd=tmp)
        name = f"job-{k:06d}.json"
        if read(os.path.join(tmp, "shrink-jobs", name)) != read(os.path.join(tmp, "slurm", name)):
            fail(f"Kubernetes Indexed Job: {name} differs from the Slurm task's")
    lint = subprocess.run(["yamllint", "-s", "-d", "relaxed", os.path.join(CLUSTER, "k8s-target-job.yaml")],
                          capture_output=True, text=True)
    if lint.returncode != 0:
        fail("yamllint: " + lint.stdout.strip())

    # 4. bad merges and slices: exit 2, one line, no model written
    def refuse(args, words, what):
        refused(args, words, what, tmp)
        if os.path.exists(os.path.join(tmp, "model.lcm")):
            fail(f"{what}: a model was written")
            os.remove(os.path.join(tmp, "model.lcm"))
    bad_result_dirs(tmp, "slurm", n)
    refuse(target + ["--merge", "missing"], ["job 7", "no result"], "a missing job")
    refuse(target + ["--merge", "twice"], ["job 3", "twice"], "a job given twice")
    other_seed = target + ["--seed", "1"]
    refuse(other_seed + ["--merge", "slurm"], ["another", "study"], "results of another study (seed)")
    other_data = [a if a != "calib.npy" else "val.npy" for a in target]
    refuse(other_data + ["--merge", "slurm"], ["another", "study"], "results of another study (calibration data)")
    refuse(target + ["--merge", "par-auto"], ["another", "study"], "results of the auto search")
    with open(os.path.join(tmp, "missing", "job-000007.json"), "w") as f:
        f.write("{}")
    refuse(target + ["--merge", "missing"], ["job-000007.json", "not the results"], "a text that is not results")
    refuse(target + ["--job", str(n), "--job-dir", "x"], [f"0..{n - 1}"], "a job out of range")
    refuse(target + ["--jobs", "5..2"], ["--jobs"], "an empty slice")
    refuse(target + ["--merge", "nowhere"], ["nowhere"], "a missing folder")
    refuse([SHRINK, "run", "model.onnx", "-o", "model.lcm", "--pass", "prune-magnitude", "--plan", "p.jsonl"],
            ["--target-size"], "jobs of the passes as given")
    print(f"target {n} jobs, auto {n_jobs['auto']} jobs: GNU parallel and the Slurm array merge to the single "
          "run's .lcm and report; the Indexed Job's command gives the same results")


def main():
    return run_test("target-jobs-", check_study)


if __name__ == "__main__":
    sys.exit(main())
