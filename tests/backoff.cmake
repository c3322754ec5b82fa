# The back-off's bisection against a Python oracle of the safe-end-first
# bisection: the same setting kept, the safe end measured only when no
# setting between fits (issue 18 item 3).
lc_add_python_test(backoff backoff_test.py)
