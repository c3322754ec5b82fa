# Conv's direct kernel against a naive loop, and its thread split.
lc_add_check_test(test_conv_direct test_conv_direct.c)
