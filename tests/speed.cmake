# Speed paths against independent oracles: Conv's direct kernel against a
# naive loop, calibration runs that stop after the nodes an observer needs.
lc_add_check_test(test_speed test_speed.c)
