# shrink compile and the micro/ runtime (issue 14): the zoo compiled for the
# host against shrink eval and ONNX Runtime, and for a Cortex-M4 under QEMU
# (skipped in the sanitizer build, where the host part is what is checked).
if(LC_SANITIZE)
  lc_add_python_test(micro micro_test.py --no-qemu)
else()
  lc_add_python_test(micro micro_test.py)
endif()
set_tests_properties(micro PROPERTIES TIMEOUT 1800)
