# What a person sees of `shrink run`: the demo's command line under a
# pseudo-terminal fits 40 lines of at most 100 columns, and its report
# adds up (per-pass bytes, layer bytes + overhead = the file; one final
# configuration).
lc_add_python_test(run_output run_output_test.py)
