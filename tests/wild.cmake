# Real models from the wild (issue 16): finite-weight check only where it
# matters; eval --out shapes, --feed, --input-shape and --metric.
lc_add_python_test(finite_test finite_test.py)
lc_add_python_test(eval_outputs_test eval_outputs_test.py)
lc_add_python_test(inputs_test inputs_test.py)
lc_add_python_test(metrics_test metrics_test.py)
# Weights of LSTM/GRU nodes and of If/Scan subgraphs compressed (k-means to
# .lcm, int8), checked with numpy, torch and ONNX Runtime.
lc_add_python_test(nested_weights nested_weights_test.py)
# quantize-int8 on real-model patterns: a power spectrum stays float,
# Constant-node BatchNorm folds, IR-3 initializer inputs.
lc_add_python_test(int8_wild int8_wild_test.py)
# correct=auto's BatchNorm re-estimation is undone when the calibration data
# moves the output away from the input model's (ONNX Runtime decides).
lc_add_python_test(bn_guard bn_guard_test.py)
# Subgraph names are scoped: Scan/If/Loop bodies reusing the node's output
# names run, and match ONNX Runtime.
lc_add_python_test(subgraph_scope subgraph_scope_test.py)
# The run report's layer table lists int8 weights inside If/Scan subgraphs,
# and layers + overhead add up to the written .onnx/.lcm.
lc_add_python_test(nested_report nested_report_test.py)
