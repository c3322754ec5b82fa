# --target-size: the allocation against a brute-force oracle, size parsing,
# and shrink run end to end on the zoo LeNet-5 with small data subsets.
lc_add_check_test(test_target_alloc test_target_alloc.c)
lc_add_python_test(target_size target_test.py)
# the damage estimate (proxy against numpy) and BatchNorm folding in target
# mode (against PyTorch), on small synthetic models
lc_add_python_test(target_proxy target_proxy_test.py)
