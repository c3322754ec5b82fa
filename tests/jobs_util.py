"""Shared by the jobs tests (sensitivity, target/auto search): the shrink
binary, the cluster examples, result bookkeeping, running a command, bad
merges that must be refused."""
import os
import shutil
import subprocess
import tempfile

SHRINK = os.environ["SHRINK"]
SRC = os.environ["LC_SOURCE_DIR"]
CLUSTER = os.path.join(SRC, "benchmarks", "cluster")
failures = []


def fail(msg):
    failures.append(msg)
    print("FAIL:", msg, flush=True)


def run(args, env=None, cwd=None):
    r = subprocess.run(args, capture_output=True, text=True, env=env, cwd=cwd)
    if r.returncode != 0:
        raise SystemExit(f"{' '.join(args)}: exit {r.returncode}: {r.stderr.strip()}")
    return r


def refused(args, words, what, cwd):
    """`args` must exit 2 with one line on stderr holding every word."""
    r = subprocess.run(args, capture_output=True, text=True, cwd=cwd)
    lines = r.stderr.strip().splitlines()
    if r.returncode != 2 or len(lines) != 1 or not all(w in lines[0] for w in words):
        fail(f"{what}: exit {r.returncode}, stderr {r.stderr.strip()!r}")


def bad_result_dirs(tmp, results, n):
    """tmp/missing: the n results of tmp/results but job 7; tmp/twice: all
    of them and job 3 again as job-extra.json."""
    os.makedirs(os.path.join(tmp, "missing"))
    for k in range(n):
        if k != 7:
            shutil.copy(os.path.join(tmp, results, f"job-{k:06d}.json"), os.path.join(tmp, "missing"))
    shutil.copytree(os.path.join(tmp, results), os.path.join(tmp, "twice"))
    shutil.copy(os.path.join(tmp, "twice", "job-000003.json"), os.path.join(tmp, "twice", "job-extra.json"))


def run_test(prefix, body):
    """Runs body(tmp) in a fresh temporary folder (removed after); the exit
    code: 1 when anything failed."""
    tmp = tempfile.mkdtemp(prefix=prefix)
    try:
        body(tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"{len(failures)} failure(s)")
    return 1 if failures else 0
