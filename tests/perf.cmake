# Executor speed work: sgemv path, Conv epilogues and depthwise path
# against oracles, plan-time fusion against unfused plans.
lc_add_check_test(test_perf test_perf.c)
