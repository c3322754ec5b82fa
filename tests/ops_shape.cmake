# Shape/index/reduction kernels called
# directly against brute-force oracles.
lc_add_check_test(test_ops_shape test_ops_shape.c)
