# Compact format (.lcm, issue 6): Huffman coder, writer/reader round trips,
# corrupt files, CLI decode/export-c, fuzz target (LC_FUZZ).
lc_add_check_test(test_huffman test_huffman.c)
lc_add_check_test(test_lcm test_lcm.c)
