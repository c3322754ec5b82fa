# Dependencies point one way between the library's layers (DESIGN.md section 2).
lc_add_python_test(layering layering_test.py)
