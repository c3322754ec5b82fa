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
  add_test(NAME conformance COMMAND conformance ${LC_CONFORMANCE_DIRS})
endif()

lc_add_python_test(torchvision_crosscheck torchvision_crosscheck.py $<TARGET_FILE:conformance>)

# RNN, GRU and LSTM against ONNX Runtime: every direction, layout and
# optional input (cases written in the backend layout, run by conformance).
lc_add_python_test(rnn_crosscheck rnn_crosscheck.py $<TARGET_FILE:conformance>)

# The corpus of real third-party models (tests/corpus/manifest.json, fetched
# into benchmarks/.corpus by scripts/setup_corpus.sh) through info, the
# executor vs ONNX Runtime, eval, quantize-int8, .lcm and prune-structured;
# writes benchmarks/results/corpus.md.
lc_add_python_test(corpus corpus_test.py $<TARGET_FILE:conformance>
  --table ${CMAKE_BINARY_DIR}/corpus.md)
