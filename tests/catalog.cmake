# Reliability (issue 9): the bad-input catalog and atomic writes of every
# command, determinism of `shrink run` across runs and thread counts, and
# the thread-count independence of lc_sgemm it rests on.

# A preloadable shim that interrupts or fails an atomic write on purpose;
# built without sanitizers so it can be preloaded before their runtime.
add_library(lc_catalog_shim MODULE catalog_shim.c)
target_compile_options(lc_catalog_shim PRIVATE -fno-sanitize=all)
target_link_options(lc_catalog_shim PRIVATE -fno-sanitize=all)
target_link_libraries(lc_catalog_shim PRIVATE ${CMAKE_DL_LIBS})
set_target_properties(lc_catalog_shim PROPERTIES PREFIX "")

lc_add_python_test(bad_input_catalog bad_input_catalog.py $<TARGET_FILE:lc_catalog_shim>)
lc_add_python_test(determinism determinism_test.py)
lc_add_check_test(test_sgemm_threads test_sgemm_threads.c)
