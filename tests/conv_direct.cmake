# Conv's direct kernel against a naive loop, and its thread split.
lc_add_check_test(test_conv_direct test_conv_direct.c)
# Its summation order: as close to the float64 sum as ONNX Runtime's.
lc_add_python_test(conv_sum_order conv_sum_order_test.py)
foreach(isa avx2 generic)
  lc_add_python_test(conv_sum_order_${isa} conv_sum_order_test.py)
  set_property(TEST conv_sum_order_${isa} APPEND PROPERTY ENVIRONMENT "LC_ISA=${isa}")
endforeach()
