# prune-structured (issue 4): unit tests of the channel analysis and the
# cross-check against numpy, onnx's checker and ONNX Runtime.
lc_add_check_test(test_structured test_structured.c)
lc_add_python_test(structured_crosscheck structured_crosscheck.py $<TARGET_FILE:lc_pass_tool>)
