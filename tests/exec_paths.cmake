# The executor's alternative paths against oracles: lc_sgemm's sgemv path,
# Conv's depthwise and epilogue paths, plan-time fusion against unfused plans.
lc_add_check_test(test_exec_paths test_exec_paths.c)
