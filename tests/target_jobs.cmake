# The target-size and auto searches split into jobs and merged (issue 18):
# GNU parallel, Slurm, Kubernetes Indexed Job examples (benchmarks/cluster/).
lc_add_python_test(target_jobs target_jobs_test.py)
