# shrink eval on the zoo models agrees with PyTorch's predictions.
lc_add_python_test(zoo_eval zoo_eval_test.py)
