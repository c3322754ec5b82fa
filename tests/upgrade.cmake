# Opset upgrade (issue 16): shrink upgrade against ONNX Runtime, the onnx
# checker and version_converter, the backend tests and torch exports.
lc_add_python_test(upgrade_crosscheck upgrade_crosscheck.py $<TARGET_FILE:conformance>)
