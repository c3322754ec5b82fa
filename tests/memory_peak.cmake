# Peak memory (issue 18, item 2): bias correction against statistics
# collected before the pass instead of a copy of the model.
lc_add_check_test(test_bias_ref test_bias_ref.c)
# Copy-on-write model copies (the bias-correction gate's uncorrected copy).
lc_add_check_test(test_cow_clone test_cow_clone.c)
# The pipeline taking its input over (lc_pipeline_run_take): same bytes as
# lc_pipeline_run, in place only when nothing needs the original.
lc_add_check_test(test_run_take test_run_take.c)
# .lcm sizes without building the file (lc_model_lcm_size): equal to the
# built file's length.
lc_add_check_test(test_lcm_size test_lcm_size.c)
# Models parked on disk (lc_model_spill): loaded back bit for bit; the
# pipeline parks the input and the model before each pass under a budget.
lc_add_check_test(test_spill test_spill.c)
