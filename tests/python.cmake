# Python binding (bindings/python/shrink, ctypes over libcompress.so) and
# the retraining example (bindings/python/examples/retrain.py), run with
# Debian's python3 against this build's shared library (the scripts set
# LIBCOMPRESS_PATH to $LC_BUILD_DIR/libcompress.so).
lc_add_python_test(python_binding python_binding_test.py)
# A short retraining run (a few hundred steps on a small subset).
lc_add_python_test(python_retrain python_retrain_test.py)

if(LC_SANITIZE)
  # python3 is not instrumented: the ASan runtime must be loaded first for
  # the sanitized libcompress.so to load; the interpreter's own allocations
  # are not leak-checked.
  execute_process(COMMAND ${CMAKE_C_COMPILER} -print-file-name=libasan.so
                  OUTPUT_VARIABLE LC_LIBASAN OUTPUT_STRIP_TRAILING_WHITESPACE)
  set_property(TEST python_binding python_retrain APPEND PROPERTY ENVIRONMENT
               "LD_PRELOAD=${LC_LIBASAN}" "ASAN_OPTIONS=detect_leaks=0")
endif()
