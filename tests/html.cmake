# The --html reports of shrink run / sensitivity, rendered in headless Chromium.
lc_add_python_test(html_report html_report_test.py)
