"""The executor's kernel table (libcompress/ops/kernels.inc) against its
contract and against ONNX's own operator schemas:
- sorted by (op, since), no duplicates (lc_kernel_find relies on it);
- complete: every lc_kernel_* descriptor defined in libcompress.a is listed;
- every kernel has prepare and run;
- inputs declared: for every op and every opset from its first kernel on,
  the kernel picked by ONNX's since_version rule declares the min_input of
  the schema onnx.defs gives for that opset (where onnx knows the op);
  a kernel newer than the installed onnx's schemas must still declare at
  least one input; and an input within min_inputs is flagged
  LC_OPF_OPTIONAL_INPUT exactly when the schema marks it optional.
Usage: kernel_table_test.py KERNEL_TABLE_TOOL"""
import os
import re
import subprocess
import sys

import onnx.defs

tool = sys.argv[1]
build = os.environ["LC_BUILD_DIR"]
rows = []
for line in subprocess.run([tool], check=True, capture_output=True, text=True).stdout.splitlines():
    op, since, min_inputs, flags, hooks = line.split()
    rows.append((op, int(since), int(min_inputs), int(flags, 16), hooks))
errors = []

keys = [(op.encode(), since) for op, since, *_ in rows]
for a, b in zip(keys, keys[1:]):
    if not a < b:
        errors.append(f"table not sorted or duplicate: {a[0].decode()} {a[1]} then {b[0].decode()} {b[1]}")

nm = subprocess.run(["nm", "--defined-only", os.path.join(build, "libcompress.a")],
                    check=True, capture_output=True, text=True).stdout
defined = set(re.findall(r" [RDr] lc_kernel_(\w+)_(\d+)$", nm, flags=re.M))
listed = {(op, str(since)) for op, since, *_ in rows}
for op, since in sorted(defined - listed):
    errors.append(f"lc_kernel_{op}_{since} is defined but not in kernels.inc")
if len(defined) < 200:
    errors.append(f"only {len(defined)} kernel descriptors found in libcompress.a")

for op, since, _, _, hooks in rows:
    if "NO_PREPARE_OR_RUN" in hooks:
        errors.append(f"{op} {since}: prepare or run is NULL")

onnx_max = onnx.defs.onnx_opset_version()
by_op = {}
for r in rows:
    by_op.setdefault(r[0], []).append(r)
checked = 0
for op, ks in by_op.items():
    for opset in range(ks[0][1], max(onnx_max, ks[-1][1]) + 1):
        k = [r for r in ks if r[1] <= opset][-1]
        try:
            schema = onnx.defs.get_schema(op, min(opset, onnx_max))
        except onnx.defs.SchemaError:
            schema = None
        if schema is None or schema.since_version > opset:
            if k[1] <= onnx_max:
                errors.append(f"{op} {k[1]}: onnx {onnx.__version__} has no schema at opset {opset}")
            elif k[2] < 1:
                errors.append(f"{op} {k[1]}: declares no inputs")
            continue
        checked += 1
        for i in range(min(k[2], 8)):
            optional = schema.inputs[min(i, len(schema.inputs) - 1)].option == onnx.defs.OpSchema.FormalParameterOption.Optional
            flagged = bool(k[3] & (1 << (24 + i)))
            if optional != flagged:
                errors.append(f"{op} at opset {opset}: input {i} is {'optional' if optional else 'required'} "
                              f"in ONNX's schema but {'' if flagged else 'not '}flagged LC_OPF_OPTIONAL_INPUT")
        if k[2] != schema.min_input:
            errors.append(f"{op} at opset {opset}: kernel {op} {k[1]} declares min_inputs {k[2]}, "
                          f"ONNX's schema {op}-{schema.since_version} has min_input {schema.min_input}")

print(f"{len(rows)} kernels, {len(by_op)} ops, {checked} (op, opset) pairs checked against onnx {onnx.__version__}")
for e in errors:
    print("FAIL:", e)
sys.exit(1 if errors else 0)
