# Auto mode (shrink run --max-drop alone): the smallest file within the
# budget on the zoo LeNet-5 with small data, checked by an independent
# numpy interval, against a fixed recipe, for determinism and bad input.
lc_add_python_test(auto_mode auto_test.py)
# --sweep: one model per point from one measurement, each file within its
# size and its accuracy recomputed from the file, its META free of the
# point's size; bad lists exit 2.
lc_add_python_test(sweep sweep_test.py)
# Auto mode with nothing within the budget (agreement, --max-drop 0 at 95%):
# the most accurate candidate is written, exit 1, its accuracy recomputed.
lc_add_python_test(auto_mode_unmet auto_unmet_test.py)
