# Pipeline speed (issue 18, item 3): the exact early stop of a validation.
lc_add_check_test(test_early_stop test_early_stop.c)
# The calibration cache and the skipped bn_checked correction: the same
# bits as without them.
lc_add_check_test(test_calib_cache test_calib_cache.c)
