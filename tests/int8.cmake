# int8 quantization and BatchNorm folding (issue 5): graph-edit helpers and
# calibrator unit tests, and the numpy / onnx / ONNX Runtime cross-check.
lc_add_check_test(test_int8 test_int8.c)
lc_add_python_test(int8_crosscheck int8_crosscheck.py $<TARGET_FILE:lc_pass_tool>)
# Constant-node weights: quantized tensors named after the Constant's output,
# unique in the model (subgraphs included); ONNX Runtime vs numpy.
lc_add_python_test(int8_const_names int8_const_names_test.py)
# A weight and bias shared by two Convs (unique node names, ONNX Runtime runs
# it) and a grouped ConvTranspose (axis-1 scales, int32 bias per C_out):
# ONNX Runtime vs a torch simulation of the QDQ graph.
lc_add_python_test(int8_shared_grouped int8_shared_grouped_test.py)
# The local damage check (local_snr): a net with one layer of edge filters
# whose weights sum to 0 keeps that layer float by default and meets 15 dB
# (ONNX Runtime), while quantizing it gives < 15 dB; a smoothing net is
# left byte-identical.
lc_add_python_test(int8_guard int8_guard_test.py)
