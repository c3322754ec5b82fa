# C API and packaging (issue 8): the weight-access API, the header's example
# program, the exported symbols of the shared library, and an install test
# that builds a program against the installed library.
lc_add_check_test(test_weight_access test_weight_access.c)
# small contracts of the 0.2 API (format setter, typed dtypes, status names, version)
lc_add_check_test(test_capi test_capi.c)

# The header's example, linked against the shared library (so it also
# proves the symbols it uses are exported).
add_executable(capi_example capi_example.c)
target_link_libraries(capi_example PRIVATE libcompress)
# the example uses only the stable tier (-U follows the directory's -D)
target_compile_options(capi_example PRIVATE -ULC_EXPERIMENTAL)
lc_add_python_test(capi_example_test capi_example_test.py $<TARGET_FILE:capi_example>)
lc_add_python_test(capi_symbols_test capi_symbols_test.py)

if(LC_SANITIZE)
  set(LC_INSTALL_TEST_FLAGS "-fsanitize=address,undefined")
else()
  set(LC_INSTALL_TEST_FLAGS "")
endif()
add_test(NAME capi_install_test
  COMMAND sh "${CMAKE_CURRENT_SOURCE_DIR}/install_test.sh" "${CMAKE_BINARY_DIR}" "${CMAKE_SOURCE_DIR}"
          "${CMAKE_C_COMPILER}" "${LC_INSTALL_TEST_FLAGS}")
set_tests_properties(capi_install_test PROPERTIES ENVIRONMENT "CMAKE=${CMAKE_COMMAND}")
if(LC_SANITIZE)
  # capi_symbols_test loads the sanitized libcompress.so into python3 (to
  # compare the version macros with lc_version_number): as for the binding
  # tests, the ASan runtime must come first.
  execute_process(COMMAND ${CMAKE_C_COMPILER} -print-file-name=libasan.so
                  OUTPUT_VARIABLE LC_CAPI_LIBASAN OUTPUT_STRIP_TRAILING_WHITESPACE)
  set_property(TEST capi_symbols_test APPEND PROPERTY ENVIRONMENT
               "LD_PRELOAD=${LC_CAPI_LIBASAN}" "ASAN_OPTIONS=detect_leaks=0")
endif()
