#!/usr/bin/python3
"""`shrink info` on broken and hostile models (issue 2): each must exit with
code 2, print nothing on stdout and exactly one line on stderr that names
the file and the problem (and the tensor or node where there is one). Under
the sanitizer build a leak or crash report would add lines and change the
exit code, so this also proves there is none.

Also: the usage errors, and that a model saved with external data inside its
folder is read (params as python counts them).

Environment: SHRINK (from lc_add_python_test).
"""
import json
import os
import random
import subprocess
import sys
import tempfile

import numpy as np
import onnx
from onnx import helper, numpy_helper, TensorProto

SHRINK = os.environ["SHRINK"]
TEST_ADD = "/usr/share/libonnx-testdata/data/node/test_add/model.onnx"
failures = []
checked = 0


def fail(msg):
    failures.append(msg)
    print("FAIL:", msg, flush=True)


def shrink(*args):
    return subprocess.run([SHRINK, *args], capture_output=True, text=True, errors="replace")


def expect_error(path, *needles, label=None):
    """shrink info PATH: exit 2, empty stdout, one stderr line naming the
    file and every needle."""
    global checked
    checked += 1
    label = label or os.path.basename(path)
    r = shrink("info", path)
    lines = r.stderr.splitlines()
    if r.returncode != 2:
        fail(f"{label}: exit code {r.returncode}, want 2; stderr: {r.stderr[-2000:]}")
    elif r.stdout:
        fail(f"{label}: printed on stdout: {r.stdout[:200]!r}")
    elif len(lines) != 1 or not r.stderr.endswith("\n"):
        fail(f"{label}: want one stderr line, got {len(lines)}: {r.stderr[-2000:]!r}")
    else:
        for n in (path,) + needles:
            if n not in lines[0]:
                fail(f"{label}: message lacks {n!r}: {lines[0]}")
                break


# ---------------------------------------------------------------- models

def conv_model():
    rng = np.random.default_rng(3)
    w = numpy_helper.from_array(rng.standard_normal((2, 1, 3, 3)).astype(np.float32), "w")
    b = numpy_helper.from_array(rng.standard_normal(2).astype(np.float32), "b")
    g = helper.make_graph([helper.make_node("Conv", ["x", "w", "b"], ["y"], name="conv")], "conv_net",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 1, 4, 4])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 2, 2, 2])], [w, b])
    m = helper.make_model(g, producer_name="cli-info-test", opset_imports=[helper.make_opsetid("", 13)])
    onnx.checker.check_model(m)
    return m


def raw_tensor(name, dims, raw):
    t = TensorProto()
    t.name = name
    t.data_type = TensorProto.FLOAT
    t.dims.extend(dims)
    t.raw_data = raw
    return t


def varint(v):
    out = bytearray()
    while True:
        out.append((v & 0x7F) | (0x80 if v > 0x7F else 0))
        v >>= 7
        if not v:
            return bytes(out)


def field(num, payload):
    """A length-delimited protobuf field."""
    return varint(num << 3 | 2) + varint(len(payload)) + payload


def nested_ifs(depth):
    """Hand-encoded ModelProto whose graph holds an If whose then_branch
    holds an If ... `depth` deep (python protobuf refuses to build it)."""
    g = field(2, b"inner")                                      # GraphProto.name
    for i in range(depth):
        attr = field(1, b"then_branch") + varint(20 << 3) + varint(5) + field(6, g)  # name, type=GRAPH, g
        node = field(1, b"cond") + field(3, b"if%d" % i) + field(4, b"If") + field(5, attr)
        g = field(1, node) + field(2, b"g%d" % i)               # GraphProto.node, name
    cond = field(1, b"cond") + field(2, field(1, varint(1 << 3) + varint(9)))  # bool tensor type
    g += field(11, cond)                                       # GraphProto.input
    opset = field(1, b"") + varint(2 << 3) + varint(13)
    return varint(1 << 3) + varint(7) + field(7, g) + field(8, opset)


def main():
    with tempfile.TemporaryDirectory(prefix="cli-info-") as tmp:
        def write(name, data):
            p = os.path.join(tmp, name)
            os.makedirs(os.path.dirname(p), exist_ok=True)
            with open(p, "wb") as f:
                f.write(data)
            return p

        # usage
        for args, needle in (((), "missing MODEL"), (("--bogus", TEST_ADD), "unknown option"),
                             ((TEST_ADD, TEST_ADD), "more than one")):
            r = shrink("info", *args)
            if r.returncode != 2 or len(r.stderr.splitlines()) != 1 or needle not in r.stderr:
                fail(f"info {args}: exit {r.returncode}, stderr {r.stderr!r}")
        r = shrink("info", "--help")
        if r.returncode != 0 or "usage: shrink info" not in r.stdout:
            fail(f"info --help: exit {r.returncode}")

        # the files themselves
        expect_error(os.path.join(tmp, "missing.onnx"), "cannot open")
        expect_error(write("empty.onnx", b""), "empty")
        expect_error(tmp, "folder", label="directory")
        for seed in range(1, 7):
            rnd = random.Random(seed)
            expect_error(write(f"random{seed}.onnx", bytes(rnd.randrange(256) for _ in range(rnd.randrange(1, 3000)))))
        add = open(TEST_ADD, "rb").read()
        for k in range(len(add)):
            expect_error(write("trunc_add.onnx", add[:k]), label=f"test_add cut to {k} bytes")
        conv = conv_model().SerializeToString()
        for k in list(range(0, len(conv), 7)) + [len(conv) - 1]:
            expect_error(write("trunc_conv.onnx", conv[:k]), label=f"conv cut to {k} bytes")
        expect_error(write("tensor.pb", numpy_helper.from_array(np.ones((2, 3), np.float32), "t").SerializeToString()),
                     "not", "model")

        # tensors and graphs
        for dims in ([1 << 40, 1 << 40], [1 << 62], [3, (1 << 63) - 1, 3]):
            m = conv_model()
            m.graph.initializer[1].CopyFrom(raw_tensor("b", dims, b"\0" * 8))
            expect_error(write("overflow.onnx", m.SerializeToString()), "'b'", "overflow")
        m = conv_model()
        m.graph.initializer[0].CopyFrom(raw_tensor("w", [2, 1, 3, 3], b"\0" * 71))
        expect_error(write("rawsize.onnx", m.SerializeToString()), "'w'", "raw_data")
        m = conv_model()
        m.graph.initializer.append(numpy_helper.from_array(np.zeros(2, np.float32), "w"))
        expect_error(write("dup.onnx", m.SerializeToString()), "duplicate", "'w'")
        m = conv_model()
        m.graph.initializer.append(numpy_helper.from_array(np.zeros(2, np.float32), "two\nlines"))
        m.graph.initializer.append(numpy_helper.from_array(np.zeros(2, np.float32), "two\nlines"))
        expect_error(write("dupnl.onnx", m.SerializeToString()), "duplicate", "two")
        m = conv_model()
        m.graph.node[0].input[2] = "nowhere"
        expect_error(write("undef.onnx", m.SerializeToString()), "'conv'", "'nowhere'")
        expect_error(write("nest200.onnx", nested_ifs(200)), "nested")
        expect_error(write("nest33.onnx", nested_ifs(33)), "nested")
        ok = write("nest5.onnx", nested_ifs(5))
        r = shrink("info", "--json", ok)
        if r.returncode != 0 or json.loads(r.stdout)["ops"] != {"If": 5}:
            fail(f"5 nested Ifs: exit {r.returncode} {r.stderr}")

        # external data: inside the folder it loads; outside it is refused
        ext_dir = os.path.join(tmp, "ext")
        os.makedirs(ext_dir)
        inside = os.path.join(ext_dir, "model.onnx")
        onnx.save_model(conv_model(), inside, save_as_external_data=True, all_tensors_to_one_file=True,
                        location="weights.bin", size_threshold=0)
        r = shrink("info", "--json", inside)
        if r.returncode != 0 or json.loads(r.stdout)["params"] != 18 + 2:
            fail(f"external data inside the folder: exit {r.returncode} {r.stderr} {r.stdout[:200]}")
        outside = write("outside.bin", open(os.path.join(ext_dir, "weights.bin"), "rb").read())
        os.symlink(outside, os.path.join(ext_dir, "link.bin"))
        for i, loc in enumerate(["../outside.bin", outside, "link.bin", "a/../../outside.bin"]):
            m = onnx.load(inside, load_external_data=False)
            for t in m.graph.initializer:
                for e in t.external_data:
                    if e.key == "location":
                        e.value = loc
            p = os.path.join(ext_dir, f"escape{i}.onnx")
            onnx.save(m, p)
            expect_error(p, "'w'", "refused")
        m = onnx.load(inside, load_external_data=False)
        for t in m.graph.initializer:
            for e in t.external_data:
                if e.key == "location":
                    e.value = "gone.bin"
        p = os.path.join(ext_dir, "gone.onnx")
        onnx.save(m, p)
        expect_error(p, "'w'", "gone.bin")

    print(f"{checked} bad inputs refused with exit code 2 and one line naming file and problem")
    if failures:
        print(f"{len(failures)} failure(s)")
        return 1
    print("all passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
