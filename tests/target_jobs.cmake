# The target-size and auto searches split into jobs and merged (issue 18):
# GNU parallel, Slurm, Kubernetes Indexed Job examples (benchmarks/cluster/).
lc_add_python_test(target_jobs target_jobs_test.py)
# lc_pipeline_set_jobs from C: a slice runs exactly its jobs (against a run
# of every job), slices outside the plan and bad arguments fail, merged
# slices write what one process writes.
lc_add_check_test(test_set_jobs test_set_jobs.c)
