"""The --html reports of `shrink run` and `shrink sensitivity`, rendered in
headless Chromium.

On the zoo LeNet-5 (a copy whose file name and first node name contain
<, >, &, and quotes, to check escaping) on a few Fashion-MNIST images:
  1. `shrink run --max-drop --html` (so the budget backs a pass off and the
     Pareto plot has several configurations), with the JSON --report beside
     it as the reference;
  2. `shrink sensitivity --json --html`, the JSON output as the reference;
  3. `shrink run` without --val: the accuracy charts must say they have no
     data instead of drawing empty axes;
  4. --html naming the model or the output file is refused.
Each page is checked as written (self-contained: no scripts, no external
resources) and as Chromium renders it (--dump-dom): every chart is present
with one bar / point / line per layer, pass or configuration of the JSON,
the drawn coordinates are linear in the JSON values, the tables have one
row per item, and the injected names show up as text, never as elements.
The screenshot of each page must contain the charts' colours.
Fails (does not skip) when chromium is not installed."""
import html.parser
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

import numpy as np
import onnx
from PIL import Image

SHRINK = os.environ["SHRINK"]
SRC = os.environ["LC_SOURCE_DIR"]
WORK = os.path.join(os.environ["LC_BUILD_DIR"], "html-report")
ZOO = os.path.join(SRC, "benchmarks", "zoo")
MEAN, STD = "0.2860", "0.3530"
NASTY_NODE = "conv<b>1</b> & \"x' <script>alert(1)</script>"
NASTY_FILE = "le<net>&\"q'5.onnx"

failures = 0


def check(ok, what):
    global failures
    print(("ok   " if ok else "FAIL ") + what)
    failures += not ok


# ---------------------------------------------------------------- DOM ----

class Node:
    def __init__(self, tag, attrs, parent):
        self.tag, self.attrs, self.parent, self.children, self.text = tag, dict(attrs), parent, [], ""

    def classes(self):
        return (self.attrs.get("class") or "").split()

    def walk(self):
        yield self
        for c in self.children:
            yield from c.walk()

    def find(self, tag=None, cls=None, id=None):
        return [n for n in self.walk() if (tag is None or n.tag == tag) and (cls is None or cls in n.classes())
                and (id is None or n.attrs.get("id") == id)]

    def all_text(self):
        return self.text + "".join(c.all_text() for c in self.children)


VOID = {"meta", "br", "img", "input", "link", "hr", "area", "base", "col", "embed", "source", "track", "wbr"}


class TreeBuilder(html.parser.HTMLParser):
    """A DOM tree from Chromium's serialized DOM (well-formed: every
    non-void element closed)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = Node("#root", {}, None)
        self.cur = self.root

    def handle_starttag(self, tag, attrs):
        n = Node(tag, attrs, self.cur)
        self.cur.children.append(n)
        if tag not in VOID:
            self.cur = n

    def handle_startendtag(self, tag, attrs):
        self.cur.children.append(Node(tag, attrs, self.cur))

    def handle_endtag(self, tag):
        n = self.cur
        while n is not self.root and n.tag != tag:
            n = n.parent
        if n is not self.root:
            self.cur = n.parent

    def handle_data(self, data):
        self.cur.text += data


def parse_dom(text):
    b = TreeBuilder()
    b.feed(text)
    return b.root


# ----------------------------------------------------------- Chromium ----

def chromium(args, page):
    profile = tempfile.mkdtemp(prefix="chromium-profile-", dir=WORK)
    try:
        cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars",
               "--user-data-dir=" + profile] + args + ["file://" + os.path.abspath(page)]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    finally:
        shutil.rmtree(profile, ignore_errors=True)


def render(page):
    """(DOM tree, screenshot as an RGB array) of the page as Chromium shows it."""
    res = chromium(["--dump-dom"], page)
    if res.returncode != 0 or "<svg" not in res.stdout:
        print(res.stderr[-2000:])
        raise SystemExit(f"FAIL chromium --dump-dom {page} exited {res.returncode}")
    png = page + ".png"
    if os.path.exists(png):
        os.remove(png)
    shot = chromium(["--screenshot=" + png, "--window-size=1200,3000"], page)
    if shot.returncode != 0 or not os.path.exists(png):
        print(shot.stderr[-2000:])
        raise SystemExit(f"FAIL chromium --screenshot {page} exited {shot.returncode}")
    return parse_dom(res.stdout), np.asarray(Image.open(png).convert("RGB")).astype(int)


def colour_pixels(img, hex_colour, tol=12):
    rgb = np.array([int(hex_colour[i:i + 2], 16) for i in (1, 3, 5)])
    return int((np.abs(img - rgb).max(axis=2) <= tol).sum())


# -------------------------------------------------------------- helpers --

def run(cmd, expect=0):
    res = subprocess.run(cmd, capture_output=True, text=True)
    if res.returncode != expect:
        print(res.stdout[-3000:], res.stderr[-3000:])
        raise SystemExit(f"FAIL exit code {res.returncode} (expected {expect}): {' '.join(cmd)}")
    return res


def points(polyline):
    return [tuple(map(float, p.split(","))) for p in polyline.attrs["points"].split()]


def centre(el):
    """Centre of a marker (circle, rect, or path of a triangle/diamond)."""
    if el.tag == "circle":
        return float(el.attrs["cx"]), float(el.attrs["cy"])
    if el.tag == "rect":
        return (float(el.attrs["x"]) + float(el.attrs["width"]) / 2,
                float(el.attrs["y"]) + float(el.attrs["height"]) / 2)
    xy = np.array(re.findall(r"[-\d.]+", el.attrs["d"]), dtype=float).reshape(-1, 2)
    if len(xy) == 4:  # diamond: symmetric about its centre
        return float(xy[:, 0].mean()), float(xy[:, 1].mean())
    return float(xy[0, 0]), float(xy[1:, 1].mean() - (xy[1:, 1].mean() - xy[0, 1]) * 0.4)  # triangle


def linear(values, coords, tol=0.75):
    """True when coords = a + b * values (b != 0) within tol pixels: the
    chart places every item where the JSON value says."""
    v, c = np.asarray(values, float), np.asarray(coords, float)
    if len(v) < 2 or np.ptp(v) == 0:
        return len(set(np.round(c, 1))) <= 1
    b, a = np.polyfit(v, c, 1)
    return b != 0 and float(np.abs(a + b * v - c).max()) <= tol


def static_checks(path, label):
    text = open(path, encoding="utf-8").read()
    check("<script" not in text.lower(), f"{label}: no <script> in the file")
    check(not re.search(r"\b(src|href)\s*=", text, re.I) and "url(" not in text and "@import" not in text,
          f"{label}: no external resources (src=, href=, url(), @import)")
    check(set(re.findall(r"https?://[^\"' )]+", text)) <= {"http://www.w3.org/2000/svg"},
          f"{label}: the only URL is the SVG namespace")
    return text


def table_rows(dom, table_id):
    t = dom.find(id=table_id)
    return len(t[0].find("tbody")[0].find("tr")) if t else -1


def chart(dom, chart_id):
    found = dom.find("figure", id=chart_id)
    return found[0] if found else None


# ---------------------------------------------------------------- main ---

def main():
    os.makedirs(WORK, exist_ok=True)
    data = os.path.join(WORK, "data")
    if not os.path.exists(os.path.join(data, "test_u8.npy")):
        subprocess.run([sys.executable, os.path.join(ZOO, "make_test_data.py"), "--out", data, "--limit", "400",
                        "--calib", "64"], check=True, stdout=subprocess.DEVNULL)
    val = ["--val", os.path.join(data, "test_u8.npy"), "--labels", os.path.join(data, "test_labels.npy"),
           "--mean", MEAN, "--std", STD, "--val-limit", "300"]

    # a model whose file and first node have names that need escaping
    m = onnx.load(os.path.join(ZOO, "lenet5.onnx"))
    first_conv = next(n for n in m.graph.node if n.op_type == "Conv")
    first_conv.name = NASTY_NODE
    model = os.path.join(WORK, NASTY_FILE)
    onnx.save(m, model)

    # 1. run with a budget
    out, rep, page = (os.path.join(WORK, n) for n in ("run.onnx", "run.json", "run.html"))
    for f in (out, rep, page):
        if os.path.exists(f):
            os.remove(f)
    res = subprocess.run([SHRINK, "run", model, "-o", out, "--pass", "prune-magnitude:sparsity=0.95", "--pass",
                          "quantize-int8", "--calib", os.path.join(data, "calib_u8.npy"), "--max-drop", "1",
                          "--report", rep, "--html", page, "--quiet"] + val, capture_output=True, text=True)
    check(res.returncode in (0, 1) and os.path.exists(page), f"shrink run --html wrote {page} (exit {res.returncode})")
    if not os.path.exists(page):
        print(res.stderr)
        sys.exit(1)
    r = json.load(open(rep))
    static_checks(page, "run page")
    # shrink report re-renders the same page from the JSON alone
    again = os.path.join(WORK, "again.html")
    if os.path.exists(again):
        os.remove(again)
    res2 = run([SHRINK, "report", rep, "--html", again])
    check(open(again, "rb").read() == open(page, "rb").read(), "shrink report --html: the same page as run --html")
    check(f"{r['output']['bytes']:,}" in res2.stdout, "shrink report prints the summary")
    res2 = subprocess.run([SHRINK, "report", rep, "--html", rep], capture_output=True, text=True)
    check(res2.returncode == 2, f"shrink report --html R.json refused (exit {res2.returncode})")
    dom, img = render(page)
    layers, passes, tried = r["layers"], r["passes"], r["tried"]
    check(len(layers) == 5 and len(passes) == 2 and len(tried) > len(passes),
          f"reference report: {len(layers)} layers, {len(passes)} passes, {len(tried)} configurations")

    h1 = dom.find("h1")[0].all_text()
    check(h1 == "shrink report: " + NASTY_FILE, f"title shows the file name as text: {h1[:100]!r}")
    check(not dom.find("net") and not dom.find("script") and not dom.find("b"), "no element injected by a name")
    facts = dom.find(id="facts")[0].all_text()
    check(f"{r['input']['bytes']:,}" in facts and f"{r['output']['bytes']:,}" in facts
          and f"{r['ratio']:.2f}x" in facts and f"float {r['accuracy']['float']:.2f}%" in facts
          and f"final {r['accuracy']['final']:.2f}%" in facts, "header facts: bytes in/out, ratio, accuracy")

    sizes = chart(dom, "chart-sizes")
    before, after = sizes.find("rect", "bar-before"), sizes.find("rect", "bar-after")
    check(len(before) == len(layers) and len(after) == len(layers),
          f"size chart: {len(before)} before / {len(after)} after bars for {len(layers)} layers")
    ob, oa = sizes.find("rect", "bar-overhead-before"), sizes.find("rect", "bar-overhead-after")
    check(len(ob) == 1 and len(oa) == 1, "size chart: one overhead bar before and after")
    widths = [float(e.attrs["width"]) for e in before + after + ob + oa]
    over_b = r["input"]["bytes"] - sum(l["bytes_before"] for l in layers)
    over_a = r["overhead"]["total"]
    sizes_b = [l["bytes_before"] for l in layers] + [l["bytes_after"] for l in layers] + [over_b, over_a]
    check(sum(l["bytes_after"] for l in layers) + over_a == r["output"]["bytes"]
          and sum(l["bytes_before"] for l in layers) + over_b == r["input"]["bytes"],
          "size chart: layers + overhead add up to the files")
    big = [(w, s) for w, s in zip(widths, sizes_b) if w > 2]
    check(len(big) >= 4 and linear([np.log10(s) for w, s in big], [w for w, s in big]),
          "size chart: bar lengths linear in log10(bytes) (log scale)")
    check("log scale" in sizes.all_text(), "size chart: says it is a log scale")

    enc = chart(dom, "chart-encoding")
    sp, bits = enc.find("rect", "bar-sparsity"), enc.find("rect", "bar-bits")
    check(len(sp) == len(layers) and len(bits) == len(layers),
          f"encoding chart: {len(sp)} sparsity and {len(bits)} bits bars for {len(layers)} layers")
    spv = [100 * l["sparsity"] for l in layers] + [0, 100]
    check(linear([100 * l["sparsity"] for l in layers], [float(e.attrs["width"]) for e in sp])
          and all(float(e.attrs["width"]) > 0 for e, l in zip(sp, layers) if l["sparsity"] > 0),
          "encoding chart: sparsity bars linear in sparsity")
    check(len({l["bits"] for l in layers}) == 1 and len({e.attrs["width"] for e in bits}) == 1
          or linear([l["bits"] for l in layers], [float(e.attrs["width"]) for e in bits]),
          "encoding chart: bits bars linear in bits")
    labels = [t.all_text() for t in sizes.find("text", "layer-label")]
    check(any(NASTY_NODE in t for t in labels), "size chart: the nasty layer name is drawn as text")

    pchart = chart(dom, "chart-passes")
    pts = pchart.find("circle", "pt-pass")
    accs = [p["accuracy"] for p in passes if p["accuracy"] is not None]
    check(len(pts) == len(accs) == len(passes), f"pass chart: {len(pts)} points for {len(passes)} passes")
    flt = pchart.find(cls="pt-float")
    ys = [float(p.attrs["cy"]) for p in pts] + [centre(f)[1] for f in flt]
    check(len(flt) == 1 and linear(accs + [r["accuracy"]["float"]], ys), "pass chart: heights linear in accuracy")
    check(len(pchart.find(cls="budget-line")) == 1, "pass chart: budget line drawn")

    pareto = chart(dom, "chart-pareto")
    cfg = pareto.find(cls="pt-config")
    with_acc = [t for t in tried if t["accuracy"] is not None]
    kept = [t for t in tried if t.get("kept")]
    chosen = pareto.find(cls="pt-chosen")
    check(len(cfg) == len(with_acc), f"Pareto plot: {len(cfg)} points for {len(with_acc)} configurations")
    check(len(chosen) == len(kept) >= 1, f"Pareto plot: {len(chosen)} highlighted for {len(kept)} kept")
    # markers are drawn tried-first then kept, each group in report order
    order = [t for t in with_acc if t not in kept] + [t for t in with_acc if t in kept]
    xy = [centre(e) for e in cfg]
    log = "log scale" in pareto.all_text()
    xs = [np.log10(t["bytes"]) if log else t["bytes"] for t in order]
    check(linear(xs, [p[0] for p in xy]), f"Pareto plot: x linear in {'log ' if log else ''}bytes")
    check(linear([t["accuracy"] for t in order], [p[1] for p in xy]), "Pareto plot: y linear in accuracy")
    uniq = {(t["bytes"], t["accuracy"]) for t in with_acc}
    front = [p for p in uniq if not any(q != p and q[0] <= p[0] and q[1] >= p[1] for q in uniq)]
    line = pareto.find("polyline", "pareto-front")
    check(len(line) == 1 and len(points(line[0])) == 2 * len(front) - 1,
          f"Pareto plot: the front steps through its {len(front)} non-dominated configurations")
    check(chart(dom, "chart-sensitivity") is None, "run page: no empty sensitivity box without a scan")
    finals = pareto.find(cls="pt-final")
    check(len(finals) == 1 and sum(t.get("final", False) for t in tried) == 1,
          f"Pareto plot: exactly one final model ringed ({len(finals)})")
    for st in sorted({t["step"] for t in with_acc}):
        n_st = len(pareto.find(cls=f"pt-stage-{st}"))
        want = sum(t["step"] == st for t in with_acc)
        check(n_st == want, f"Pareto plot: stage {st} has {n_st} points for {want} configurations")
    fills = {st: {e.attrs.get("fill") for e in pareto.find(cls=f"pt-stage-{st}")} for st in (1, 2)}
    check(all(len(f) == 1 for f in fills.values()) and fills[1] != fills[2], f"Pareto plot: one colour per stage {fills}")
    if finals:
        fx = (float(finals[0].attrs["cx"]), float(finals[0].attrs["cy"]))
        ft = next(t for t in tried if t.get("final"))
        k_final = order.index(ft)
        check(abs(xy[k_final][0] - fx[0]) < 0.2 and abs(xy[k_final][1] - fx[1]) < 0.2,
              "Pareto plot: the ring is on the final configuration")
    for tid, n in (("table-layers", len(layers)), ("table-passes", len(passes)), ("table-tried", len(tried))):
        check(table_rows(dom, tid) == n, f"{tid}: {table_rows(dom, tid)} rows for {n} items")
    for fid in ("chart-sizes", "chart-passes", "chart-pareto"):
        check(not chart(dom, fid).find("p", "nodata"), f"{fid}: has data, no 'no data' note")
    nonwhite = int((img.min(axis=2) < 240).sum())
    check(nonwhite > 50000, f"run screenshot: {nonwhite} non-white pixels")
    for name, colour in (("before bars", "#E69F00"), ("after bars", "#0072B2"), ("kept marker", "#D55E00")):
        n = colour_pixels(img, colour)
        check(n > 200, f"run screenshot: {n} pixels of the {name} colour {colour}")

    # 2. sensitivity
    grid = [0.5, 0.8, 0.95]
    spage = os.path.join(WORK, "sensitivity.html")
    if os.path.exists(spage):
        os.remove(spage)
    res = run([SHRINK, "sensitivity", model, "--pass", "prune-magnitude", "--grid", ",".join(map(str, grid)),
               "--json", "--html", spage] + val)
    s = json.loads(res.stdout)
    static_checks(spage, "sensitivity page")
    sdom, simg = render(spage)
    sc = chart(sdom, "chart-sensitivity")
    lines, marks = sc.find("polyline", "sens-line"), sc.find(cls="sens-pt")
    check(len(lines) == len(s["layers"]) == 5, f"sensitivity chart: {len(lines)} lines for {len(s['layers'])} layers")
    check(all(len(points(l)) == len(grid) for l in lines), "sensitivity chart: every line has a vertex per grid value")
    check(len(marks) == len(s["layers"]) * len(grid), f"sensitivity chart: {len(marks)} markers")
    xs = [p[0] for l in lines for p in points(l)]
    ys = [p[1] for l in lines for p in points(l)]
    check(linear(grid * len(lines), xs), "sensitivity chart: x linear in the knob value")
    accs_s = [a for l in s["layers"] for a in l["accuracy"]]
    lo_edge = max(ys)
    inside = [(a, y) for a, y in zip(accs_s, ys) if y < lo_edge - 0.05]
    check(len(inside) >= 2 and linear([a for a, y in inside], [y for a, y in inside]),
          "sensitivity chart: y linear in accuracy (points above the zoomed floor)")
    check(all(a >= s["float"] - 5 or y >= lo_edge - 0.05 for a, y in zip(accs_s, ys)),
          "sensitivity chart: points more than 5 points below float sit on the floor")
    band = sc.find("rect", "noise-band")
    check(len(band) == 1 and s["samples"] == 300, f"sensitivity chart: a +-1 sample band ({s.get('samples')} samples)")
    if band and lines:
        # the band is 2 * 100/samples points tall at the y scale of the lines
        b_, a_ = np.polyfit([a for a, y in inside], [y for a, y in inside], 1)
        check(abs(float(band[0].attrs["height"]) - abs(b_) * 2 * 100 / s["samples"]) < 0.5,
              "sensitivity chart: band height is two samples' worth of accuracy")
    legend = [t.all_text() for t in sc.find("g", "legend-item")]
    check(legend[-1:] == ["float model"], "sensitivity legend: the float model line, clear of the curves")
    legend = legend[:-1]
    check(len(legend) == len(s["layers"]) and all(l["name"].endswith(t.lstrip("\u2026")) for l, t in
                                                 zip(s["layers"], legend)), "sensitivity legend names every layer")
    check(not sdom.find("script") and not sdom.find("b"), "sensitivity page: no element injected by a name")
    check(table_rows(sdom, "table-sensitivity") == len(s["layers"]), "sensitivity table: a row per layer")
    for i, colour in enumerate(["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00"]):
        n = colour_pixels(simg, colour)
        check(n > 40, f"sensitivity screenshot: {n} pixels of line {i + 1}'s colour {colour}")

    # 2b. bits: the x axis runs toward fewer bits (more compression)
    bpage = os.path.join(WORK, "sensitivity_bits.html")
    res = run([SHRINK, "sensitivity", model, "--pass", "quantize-kmeans", "--grid", "8,4,2", "--json", "--html", bpage]
              + val)
    bdom, _ = render(bpage)
    blines = chart(bdom, "chart-sensitivity").find("polyline", "sens-line")
    bx = {g: x for g, (x, y) in zip(sorted(json.loads(res.stdout)["grid"]), points(blines[0]))} if blines else {}
    check(len(bx) == 3 and bx[8] < bx[4] < bx[2], f"bits sensitivity: x runs from 8 bits to 2 bits ({bx})")
    res = run([SHRINK, "sensitivity", model, "--pass", "prune-magnitude", "--json"] + val)
    check(json.loads(res.stdout)["grid"] == [0.5, 0.7, 0.8, 0.9, 0.95], "sensitivity: default sparsity grid")

    # 3. no validation data: accuracy charts say so
    npage = os.path.join(WORK, "noval.html")
    run([SHRINK, "run", model, "-o", os.path.join(WORK, "noval.onnx"), "--pass", "prune-magnitude:sparsity=0.5",
         "--html", npage, "--quiet"])
    ndom, nimg = render(npage)
    for fid in ("chart-passes", "chart-pareto"):
        c = chart(ndom, fid)
        check(c is not None and c.find("p", "nodata") and not c.find("svg"), f"no --val: {fid} says it has no data")
    check(len(chart(ndom, "chart-sizes").find("rect", "bar-after")) == 5, "no --val: size chart still drawn")

    # 4. refusing to overwrite inputs
    for target in (model, os.path.join(WORK, "noval.onnx")):
        res = subprocess.run([SHRINK, "run", model, "-o", os.path.join(WORK, "noval.onnx"), "--pass",
                              "prune-magnitude:sparsity=0.5", "--html", target, "--quiet"], capture_output=True)
        check(res.returncode == 2, f"--html {os.path.basename(target)} refused (exit {res.returncode})")
    res = subprocess.run([SHRINK, "sensitivity", model, "--pass", "prune-magnitude", "--grid", "0.5", "--html", model]
                         + val, capture_output=True)
    check(res.returncode == 2 and onnx.load(model).graph.node, "sensitivity --html MODEL refused")

    print(f"{failures} failure(s)")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
    if not CHROMIUM:
        print("FAIL chromium is not installed: this test renders the --html report in headless Chromium. "
              "Install it with scripts/setup.sh (Debian package 'chromium').")
        sys.exit(1)
    main()
