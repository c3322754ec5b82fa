# Executor: unit tests, the ONNX backend conformance runner, and the
# torchvision cross-check against PyTorch.
lc_add_check_test(test_executor test_executor.c)

add_executable(conformance conformance.c)
target_link_libraries(conformance PRIVATE libcompress_static)
target_include_directories(conformance PRIVATE
  ${LC_INTERNAL_INCLUDE_DIRS} "${LC_GEN_DIR}")

set(LC_ONNX_TESTDATA "/usr/share/libonnx-testdata/data" CACHE PATH "ONNX backend test cases (Debian's libonnx-testdata)")
set(LC_CONFORMANCE_DIRS)
foreach(sub node pytorch-converted pytorch-operator simple)
  if(IS_DIRECTORY "${LC_ONNX_TESTDATA}/${sub}")
    list(APPEND LC_CONFORMANCE_DIRS "${LC_ONNX_TESTDATA}/${sub}")
  endif()
endforeach()
if(LC_CONFORMANCE_DIRS)
  # every case must pass except those listed as expected-unsupported
  add_test(NAME conformance COMMAND conformance --require-all
    --expect-unsupported "${CMAKE_CURRENT_SOURCE_DIR}/conformance_unsupported.txt" ${LC_CONFORMANCE_DIRS})
endif()

lc_add_python_test(torchvision_crosscheck torchvision_crosscheck.py $<TARGET_FILE:conformance>)

# The kernel table: sorted, complete, and every kernel's min_inputs against
# ONNX's schemas (onnx.defs).
add_executable(kernel_table_tool "${CMAKE_CURRENT_SOURCE_DIR}/tools/kernel_table.c")
target_link_libraries(kernel_table_tool PRIVATE libcompress_static)
target_include_directories(kernel_table_tool PRIVATE ${LC_INTERNAL_INCLUDE_DIRS})
lc_add_python_test(kernel_table kernel_table_test.py $<TARGET_FILE:kernel_table_tool>)

# Every Reduce* kernel against ONNX Runtime (integer overflow included).
lc_add_python_test(reduce_crosscheck reduce_crosscheck.py $<TARGET_FILE:conformance>)

# If, Loop and Scan with subgraphs reading run-time outer values, against numpy.
lc_add_python_test(control_flow control_flow_test.py $<TARGET_FILE:conformance>)

# RNN, GRU and LSTM against ONNX Runtime: every direction, layout and
# optional input (cases written in the backend layout, run by conformance).
lc_add_python_test(rnn_crosscheck rnn_crosscheck.py $<TARGET_FILE:conformance>)

# The corpus of real third-party models (tests/corpus/manifest.json, fetched
# into benchmarks/.corpus by scripts/setup_corpus.sh) through info, the
# executor vs ONNX Runtime, eval, quantize-int8, .lcm and prune-structured;
# writes benchmarks/results/corpus.md.
lc_add_python_test(corpus corpus_test.py $<TARGET_FILE:conformance>
  --table ${CMAKE_BINARY_DIR}/corpus.md)
