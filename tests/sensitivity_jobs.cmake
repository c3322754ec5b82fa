# Sensitivity split into jobs and merged (issue 18): GNU parallel, Slurm,
# Kubernetes Indexed Job examples (benchmarks/cluster/).
lc_add_python_test(sensitivity_jobs sensitivity_jobs_test.py)
