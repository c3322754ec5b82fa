#!/usr/bin/python3
"""The .lcm format on the model zoo after pruning + k-means (+ huffman).

  /usr/bin/python3 benchmarks/lcm_bench.py --build BUILD_DIR [--sparsity 0.9] [--bits 4] [--out results.md]

For every zoo model: the .lcm size; its Huffman-coded streams against the
entropy bound of their symbols (coded bits without / with the code tables);
the equivalent ONNX (`shrink decode`) raw, `gzip -9` and `xz -9`; Huffman
encode and decode speed (MB/s of symbols, CPU time: on the file's own
streams, where table set-up dominates small streams, and in steady state
on each stream's symbols repeated to 4M). Needs BUILD_DIR/shrink and
BUILD_DIR/tests/lcm_tool (a build with LC_BUILD_TESTS=ON).
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

ZOO = ["lenet300", "lenet5", "resnet8", "dscnn"]


def sh(args):
    r = subprocess.run(args, capture_output=True)
    if r.returncode != 0:
        sys.exit("%s failed: %s" % (" ".join(args), r.stderr.decode().strip()))
    return r.stdout


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True)
    ap.add_argument("--sparsity", type=float, default=0.9)
    ap.add_argument("--bits", type=int, default=4)
    ap.add_argument("--out")
    a = ap.parse_args()
    src = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    shrink = os.path.join(a.build, "shrink")
    tool = os.path.join(a.build, "tests", "lcm_tool")
    rows, ratios_plain, ratios_tab = [], [], []
    all_coded = all_bound = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        for name in ZOO:
            onnx_in = os.path.join(src, "benchmarks", "zoo", name + ".onnx")
            if not os.path.exists(onnx_in):
                continue
            lcm = os.path.join(tmp, name + ".lcm")
            dec = os.path.join(tmp, name + ".onnx")
            sh([tool, "encode", onnx_in, lcm, "prune-magnitude:sparsity=%g,scope=layer" % a.sparsity,
                "quantize-kmeans:bits=%d,correct=none" % a.bits, "huffman"])
            sh([shrink, "decode", lcm, "-o", dec])
            gz = len(sh(["gzip", "-9", "-c", dec]))
            xz = len(sh(["xz", "-9", "-c", dec]))
            st = json.loads(sh([tool, "stats", lcm]))
            coded = bound = tables = 0.0
            for t in st["tensors"]:
                for s in t["streams"]:
                    if s["coding"] != 1:
                        continue
                    bits = 8.0 * (s["bytes"] - s["table_bytes"])
                    coded += bits
                    tables += 8.0 * s["table_bytes"]
                    bound += s["entropy_bits"]
                    if s["entropy_bits"] > 0:
                        ratios_plain.append(bits / s["entropy_bits"])
                        ratios_tab.append((bits + 8.0 * s["table_bytes"]) / s["entropy_bits"])
            all_coded += coded
            all_bound += bound
            sp = json.loads(sh([tool, "speed", lcm, "1"]))
            overhead = st["header_bytes"] + st["meta_bytes"] + st["graph_bytes"]
            rows.append((name, os.path.getsize(onnx_in), os.path.getsize(lcm), overhead, os.path.getsize(dec), gz, xz,
                         coded / 8, bound / 8, tables / 8, sp))
    lines = []
    lines.append("prune-magnitude sparsity=%g, quantize-kmeans bits=%d (correct=none), huffman\n" % (a.sparsity, a.bits))
    lines.append("| model | ONNX in | .lcm | of which overhead | decoded ONNX | gzip -9 | xz -9 | xz / .lcm | "
                 "Huffman bytes (no tables) | entropy bound | tables | enc MB/s (file / bulk) | dec MB/s (file / bulk) |")
    lines.append("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for (name, inb, lcmb, ovh, decb, gz, xz, coded, bound, tables, sp) in rows:
        lines.append("| %s | %d | %d | %d | %d | %d | %d | %.2f | %.0f | %.0f (+%.2f%%) | %.0f | %.0f / %.0f | %.0f / %.0f |" % (
            name, inb, lcmb, ovh, decb, gz, xz, xz / lcmb, coded, bound, 100 * (coded / bound - 1) if bound else 0, tables,
            sp["encode_mb_s"], sp["bulk_encode_mb_s"], sp["decode_mb_s"], sp["bulk_decode_mb_s"]))
    if ratios_plain:
        lines.append("")
        lines.append("Huffman streams: %d; coded bits / entropy bound, mean over streams: %.4f without tables, %.4f with "
                     "tables; over all bits: %.4f" % (len(ratios_plain), sum(ratios_plain) / len(ratios_plain),
                                                    sum(ratios_tab) / len(ratios_tab), all_coded / all_bound))
    text = "\n".join(lines)
    print(text)
    if a.out:
        with open(a.out, "w") as f:
            f.write(text + "\n")


if __name__ == "__main__":
    main()
