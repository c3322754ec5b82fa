# Dataset readers (datasets/): .npy, IDX, raw float32, labels, .npy writer.
# test_datasets alone runs the self-contained cases (hostile headers,
# truncation, mutations, shape checks); datasets_crosscheck writes files and
# NumPy's expected values, then runs it again on them.
lc_add_check_test(test_datasets test_datasets.c)
lc_add_python_test(datasets_crosscheck datasets_crosscheck.py $<TARGET_FILE:test_datasets>)
