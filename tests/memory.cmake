# Memory (issue 9): the streamed ONNX writer and the atomic file.
lc_add_check_test(test_memory test_memory.c)
