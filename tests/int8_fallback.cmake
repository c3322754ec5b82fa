# quantize-int8's op-wise fallback to float (issue 16): the ranking, the
# graph it writes and the budget's back-off, against numpy and ONNX Runtime.
lc_add_python_test(int8_fallback int8_fallback_test.py)
