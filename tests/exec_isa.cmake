# The kernels' instruction-set instances (LC_ISA caps the run-time choice):
# every level the CPU has against ONNX Runtime, and the oracle-based kernel
# tests again with the dispatch capped at AVX2 and at the generic build (the
# uncapped runs above take the best level, AVX-512 where the CPU has it).
lc_add_python_test(exec_isa_crosscheck exec_isa_crosscheck.py $<TARGET_FILE:conformance>)
foreach(isa avx2 generic)
  foreach(t test_conv_direct test_exec_paths)
    add_test(NAME ${t}_${isa} COMMAND ${t})
    set_tests_properties(${t}_${isa} PROPERTIES ENVIRONMENT
      "CK_DEFAULT_TIMEOUT=600;LC_SOURCE_DIR=${CMAKE_SOURCE_DIR};LC_ISA=${isa}")
  endforeach()
endforeach()
