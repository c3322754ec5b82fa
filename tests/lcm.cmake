# Compact format (.lcm, issue 6): Huffman coder, writer/reader round trips,
# corrupt files, CLI decode/export-c, fuzz target (LC_FUZZ).
lc_add_check_test(test_huffman test_huffman.c)
lc_add_check_test(test_lcm test_lcm.c)
# Format 3.0: biases on the 8-bit grid, the GRAPH's preset dictionary.
lc_add_check_test(test_lcm_grid test_lcm_grid.c)

add_executable(lcm_tool "${CMAKE_CURRENT_SOURCE_DIR}/tools/lcm_tool.c")
target_link_libraries(lcm_tool PRIVATE libcompress_static)
target_include_directories(lcm_tool PRIVATE ${LC_INTERNAL_INCLUDE_DIRS})

lc_add_python_test(lcm_crosscheck lcm_crosscheck.py $<TARGET_FILE:lcm_tool>)

include("${CMAKE_CURRENT_SOURCE_DIR}/fuzz/fuzz.cmake")

# Format 1.0 files still read (tests/data/lcm_v1, made by the 1.0 writer).
lc_add_python_test(lcm_compat lcm_compat_test.py $<TARGET_FILE:lcm_tool>)
