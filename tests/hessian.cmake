# Second-order passes (issues 4 and 5): prune-hessian (SparseGPT) and
# quantize-gptq. Unit tests of the shared machinery (Cholesky retries,
# dead inputs, the sweep) and the numpy/PyTorch cross-check, which runs
# the passes through lc_pass_tool (defined in prune.cmake).
lc_add_check_test(test_hessian test_hessian.c)
lc_add_python_test(hessian_crosscheck hessian_crosscheck.py $<TARGET_FILE:lc_pass_tool>)
lc_add_check_test(test_hessian_collect test_hessian_collect.c)
