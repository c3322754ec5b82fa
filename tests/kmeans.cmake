# Weight sharing and binarization (issue 5): the 1-D k-means unit tests
# (brute-force oracles) and the scikit-learn / numpy / PyTorch cross-check
# of quantize-kmeans and binarize through the one-pass tool.
lc_add_check_test(test_kmeans test_kmeans.c)
lc_add_python_test(kmeans_crosscheck kmeans_crosscheck.py $<TARGET_FILE:lc_pass_tool>)
