# Python binding (bindings/python/shrink, ctypes over libcompress.so) and
# its PyTorch retraining (shrink.torch), run with
# Debian's python3 against this build's shared library (the scripts set
# LIBCOMPRESS_PATH to $LC_BUILD_DIR/libcompress.so).
lc_add_python_test(python_binding python_binding_test.py)
# shrink.torch.compress on a tiny conv net (a few hundred steps on a subset).
lc_add_python_test(python_torch python_torch_test.py)
# Biases on the .lcm's 8-bit grid: shrink.torch, libcompress and a numpy reference agree bit for bit.
lc_add_python_test(python_grid python_grid_test.py)
# pip install of the binding into a venv (offline), the library found without LIBCOMPRESS_PATH.
lc_add_python_test(python_venv python_venv_test.py)

if(LC_SANITIZE)
  # python3 is not instrumented: the ASan runtime must be loaded first for
  # the sanitized libcompress.so to load; the interpreter's own allocations
  # are not leak-checked. libstdc++ is preloaded right after it, so that
  # ASan's __cxa_throw interceptor finds the real one when torch throws a
  # C++ exception (otherwise: "CHECK failed: real___cxa_throw != 0").
  execute_process(COMMAND ${CMAKE_C_COMPILER} -print-file-name=libasan.so
                  OUTPUT_VARIABLE LC_LIBASAN OUTPUT_STRIP_TRAILING_WHITESPACE)
  execute_process(COMMAND ${CMAKE_C_COMPILER} -print-file-name=libstdc++.so.6
                  OUTPUT_VARIABLE LC_LIBSTDCXX OUTPUT_STRIP_TRAILING_WHITESPACE)
  set_property(TEST python_binding python_torch python_grid python_venv APPEND PROPERTY ENVIRONMENT
               "LD_PRELOAD=${LC_LIBASAN}:${LC_LIBSTDCXX}" "ASAN_OPTIONS=detect_leaks=0")
endif()
