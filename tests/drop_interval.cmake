# The confidence interval of an accuracy drop (issue 15), against scipy.
add_executable(interval_tool "${CMAKE_CURRENT_SOURCE_DIR}/tools/interval_tool.c")
target_link_libraries(interval_tool PRIVATE libcompress_static)
target_include_directories(interval_tool PRIVATE ${LC_INTERNAL_INCLUDE_DIRS})
lc_add_python_test(drop_interval drop_interval_test.py $<TARGET_FILE:interval_tool>)
