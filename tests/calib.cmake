# Calibration runs that stop after the nodes an observer needs.
lc_add_check_test(test_calib test_calib.c)
