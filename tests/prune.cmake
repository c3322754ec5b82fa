# Pruning passes and statistics correction (issue 4): the pass framework's
# unit tests, a one-pass tool for cross-checks and benchmarks, and the
# PyTorch/numpy cross-check.
add_executable(lc_pass_tool "${CMAKE_CURRENT_SOURCE_DIR}/tools/lc_pass_tool.c")
target_link_libraries(lc_pass_tool PRIVATE libcompress_static)

lc_add_check_test(test_passes test_passes.c)
lc_add_python_test(prune_crosscheck prune_crosscheck.py $<TARGET_FILE:lc_pass_tool>)
# prune-magnitude's default correct=auto: bias correction when calibration
# data is given (no BatchNorm), the biases equal to numpy's; none without.
lc_add_python_test(bias_default bias_default_test.py)
