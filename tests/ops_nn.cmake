# Neural-network kernels (Conv, ConvTranspose, Gemm, MatMul, pools, norms,
# Softmax, Pad, Quantize/DequantizeLinear): fast paths against plain
# oracles. The ONNX backend cases run through the `conformance` test.
lc_add_check_test(test_ops_nn test_ops_nn.c)
