# Foundation tests (issue 2): lossless ONNX round trip, `shrink info`
# parameter counts, external data and hostile input.
add_executable(lc_roundtrip "${CMAKE_CURRENT_SOURCE_DIR}/tools/lc_roundtrip.c")
target_link_libraries(lc_roundtrip PRIVATE libcompress_static)

lc_add_python_test(roundtrip_crosscheck roundtrip_crosscheck.py roundtrip $<TARGET_FILE:lc_roundtrip>)
lc_add_python_test(roundtrip_info roundtrip_crosscheck.py info)
lc_add_check_test(test_onnx_bad_input test_onnx_bad_input.c)
lc_add_python_test(cli_info_test cli_info_test.py)
