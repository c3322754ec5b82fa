#!/usr/bin/python3
"""Sensitivity as jobs (issue 18): a study planned, run in slices by
different processes (GNU parallel, the Slurm array script and the
Kubernetes Indexed Job's command, run here with their index variables) and
merged gives byte for byte the JSON and the HTML of one process. Bad
merges fail with exit 2 and one line: a missing job, a job given twice,
results of another study, a slice out of range.

Environment: SHRINK, LC_SOURCE_DIR, LC_BUILD_DIR.
"""
import os
import shutil
import subprocess
import sys

import numpy as np
import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from jobs_util import CLUSTER, SHRINK, SRC, bad_result_dirs, fail, refused, run, run_test  # noqa: E402


def check_study(tmp):
    rng = np.random.default_rng(0)
    # real data: the zoo LeNet-5 on 96 Fashion-MNIST test images
    data = os.path.join(tmp, "data")
    subprocess.run([sys.executable, os.path.join(SRC, "benchmarks", "zoo", "make_test_data.py"), "--out", data,
                    "--limit", "96", "--calib", "16"], check=True, stdout=subprocess.DEVNULL)
    shutil.copy(os.path.join(SRC, "benchmarks", "zoo", "lenet5.onnx"), os.path.join(tmp, "model.onnx"))
    shutil.copy(os.path.join(data, "test_f32.npy"), os.path.join(tmp, "val.npy"))
    shutil.copy(os.path.join(data, "test_labels.npy"), os.path.join(tmp, "labels.npy"))
    study = ["--pass", "prune-magnitude", "--grid", "0.5,0.7,0.9", "--val", "val.npy", "--labels", "labels.npy"]
    base = [SHRINK, "sensitivity", "model.onnx"] + study
    single = run(base + ["--json", "--html", "single.html"], cwd=tmp).stdout
    run(base + ["--plan", "plan.jsonl"], cwd=tmp)
    plan = open(os.path.join(tmp, "plan.jsonl")).read().splitlines()
    n = len(plan)
    if n != 5 * 3:
        fail(f"plan has {n} jobs, want 5 layers x 3 values")
    del rng

    def merged(job_dir, html=None):
        extra = ["--html", html] if html else []
        return run(base + ["--merge", job_dir, "--json"] + extra, cwd=tmp).stdout

    # 1. four slices (--jobs K..M), as four processes would run them
    bounds = [0, 4, 8, 12, n]
    for a, b in zip(bounds, bounds[1:]):
        run(base + ["--jobs", f"{a}..{b - 1}", "--job-dir", "slices"], cwd=tmp)
    if merged("slices", "merged.html") != single:
        fail("4 slices merged differ from the single-process JSON")
    if open(os.path.join(tmp, "merged.html"), "rb").read() != open(os.path.join(tmp, "single.html"), "rb").read():
        fail("4 slices merged: the HTML differs from the single process's")
    # 2. GNU parallel through benchmarks/cluster/parallel.sh
    env = dict(os.environ, SHRINK=SHRINK, MODEL="model.onnx", STUDY_ARGS=" ".join(study), JOB_DIR="par")
    out = run([os.path.join(CLUSTER, "parallel.sh"), "4"], env=env, cwd=tmp).stdout
    if out != single:
        fail("GNU parallel: merged JSON differs from the single process's")
    # 3. the Slurm array script, one task per job index
    env = dict(os.environ, SHRINK=SHRINK, MODEL="model.onnx", STUDY_ARGS=" ".join(study), JOB_DIR="slurm",
               SLURM_SUBMIT_DIR=SRC, SLURM_CPUS_PER_TASK="1")
    for k in range(n):
        run(["bash", os.path.join(CLUSTER, "slurm.sbatch")], env=dict(env, SLURM_ARRAY_TASK_ID=str(k)), cwd=tmp)
    if merged("slurm") != single:
        fail("Slurm array: merged JSON differs from the single process's")
    # 4. the Kubernetes Indexed Job's container command, per index
    job = yaml.safe_load(open(os.path.join(CLUSTER, "k8s-indexed-job.yaml")))
    spec = job["spec"]
    if job["kind"] != "Job" or spec["completionMode"] != "Indexed" or spec["template"]["spec"]["restartPolicy"] != "Never":
        fail("k8s manifest: not an Indexed Job with restartPolicy Never")
    c = spec["template"]["spec"]["containers"][0]
    script = c["args"][0].replace("exec shrink ", f"exec {SHRINK} ")
    for k in range(n):
        run(c["command"] + [script], env=dict(os.environ, JOB_COMPLETION_INDEX=str(k)), cwd=tmp)
    if merged("shrink-jobs") != single:
        fail("Kubernetes Indexed Job: merged JSON differs from the single process's")
    lint = subprocess.run(["yamllint", "-s", "-d", "relaxed", os.path.join(CLUSTER, "k8s-indexed-job.yaml")],
                          capture_output=True, text=True)
    if lint.returncode != 0:
        fail("yamllint: " + lint.stdout.strip())
    # 5. bad merges and slices: exit 2, one line
    bad_result_dirs(tmp, "slurm", n)
    refused(base + ["--merge", "missing"], ["job 7", "no result"], "a missing job", tmp)
    refused(base + ["--merge", "twice"], ["job 3", "twice"], "a job given twice", tmp)
    other = [SHRINK, "sensitivity", "model.onnx"] + study[:3] + ["0.5,0.9"] + study[4:]
    refused(other + ["--merge", "slurm"], ["jobs"], "results of another study", tmp)
    # the same job count and layers, other data: the fingerprint differs
    refused(base + ["--val-limit", "90", "--merge", "slurm"], ["another", "study"], "results of other data", tmp)
    refused(base + ["--job", str(n), "--job-dir", "x"], [f"0..{n - 1}"], "a job out of range", tmp)
    refused(base + ["--jobs", "5..2"], ["--jobs"], "an empty slice", tmp)
    refused(base + ["--merge", "nowhere"], ["nowhere"], "a missing folder", tmp)
    print(f"{n} jobs; 4 slices, GNU parallel, the Slurm array and the Indexed Job all merge to the single run")


def main():
    return run_test("sens-jobs-", check_study)


if __name__ == "__main__":
    sys.exit(main())
