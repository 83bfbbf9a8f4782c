#!/usr/bin/env python3
"""Side by side: the explain CLI against Python shap (KernelExplainer, PermutationExplainer)
and lime (LimeTabularExplainer) on the same ONNX models, rows, background and budgets.

One command (from the repository root, after `cargo build --release -p explain-cli`):

    /work/venv/bin/python benches/compare.py --explain-bin target/release/explain

(any Python with numpy, onnxruntime==1.31.1, shap and lime from PyPI will do; `--quick` runs
fewer budgets and seeds). It writes `benches/RESULTS.md` (the tables) and
`benches/results.json` (every measurement), and prints the tables.

What is measured, per model, budget and tool (budget = coalitions per explanation, the empty
and full ones aside; for shap's PermutationExplainer `max_evals`; for LIME `num_samples`):

* wall time per explanation: the Python tools call the model through onnxruntime (CPU, one
  intra-op and one inter-op thread) and are timed around the explain call only (the
  explainer is built beforehand); the CLI is timed as a whole process (start, model load,
  reading inputs, writing JSON) divided by the rows it explains — which counts against us;
* error against exact Shapley values (interventional, identity link, the same background),
  enumerated here over all 2^M coalitions with onnxruntime: mean over rows and seeds of
  ‖φ̂ − φ‖₂ / ‖φ‖₂. LIME estimates a different quantity (a local linear surrogate), so no
  error is given for it;
* "to reach 0.05": the cheapest budget on the ladder whose mean relative error is at most
  0.05, and its time.

Also the engine's own figures from criterion (`cargo bench -p explain-benches`), when
target/criterion holds them: overhead of a whole explanation over raw batched inference of the
same model rows, and 1 → 2 thread speed-up; and the peak memory (max RSS) of one CLI run
explaining an image model with 200 superpixels and 8192 coalitions.
"""

import argparse
import datetime
import json
import math
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np
import onnxruntime as ort

F32 = np.float32
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TARGET_ERROR = 0.05

# Tabular models with an exact reference (M <= 16).
MODELS = [
    {"name": "mlp16 (breast cancer, 16 features)", "key": "mlp16",
     "model": "benches/models/mlp16.onnx", "input": "benches/models/mlp16_x.npy",
     "background": "benches/models/mlp16_bg.npy", "target": 1},
    {"name": "wine MLP (13 features)", "key": "wine",
     "model": "models-sample/tabular/wine_mlp.onnx", "input": "models-sample/tabular/samples.npy",
     "background": "models-sample/tabular/background.npy", "target": 0},
]
BUDGETS = [256, 512, 1024, 2048, 4096, 8192]
QUICK_BUDGETS = [512, 2048]


def rel(p):
    return os.path.join(ROOT, p)


def make_session(model_path):
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    return ort.InferenceSession(model_path, sess_options=so, providers=["CPUExecutionProvider"])


def make_predict(sess, target):
    name = sess.get_inputs()[0].name

    def predict(x):
        x = np.ascontiguousarray(np.asarray(x, dtype=F32))
        if x.ndim == 1:
            x = x[None, :]
        out = sess.run(None, {name: x})[0]
        return out.reshape(out.shape[0], -1)[:, target].astype(np.float64)

    return predict


def load_2d(p):
    a = np.load(p, allow_pickle=False)
    return np.ascontiguousarray((a[None, :] if a.ndim == 1 else a).astype(F32))


def exact_shapley(predict, x_row, bg, chunk_rows=1 << 18):
    """Exact interventional Shapley values (float64) over all 2^M coalitions."""
    m = x_row.shape[0]
    k = 1 << m
    masks = ((np.arange(k)[:, None] >> np.arange(m)[None, :]) & 1).astype(bool)
    v = np.empty(k)
    per_chunk = max(1, chunk_rows // bg.shape[0])
    for start in range(0, k, per_chunk):
        mk = masks[start:start + per_chunk]
        rows = np.where(mk[:, None, :], x_row[None, None, :], bg[None, :, :])
        v[start:start + len(mk)] = predict(rows.reshape(-1, m)).reshape(len(mk), -1).mean(axis=1)
    w = np.array([math.factorial(s) * math.factorial(m - s - 1) / math.factorial(m)
                  for s in range(m)])
    sizes = masks.sum(axis=1)
    phi = np.empty(m)
    for i in range(m):
        idx = np.flatnonzero(~masks[:, i])
        phi[i] = np.sum(w[sizes[idx]] * (v[idx | (1 << i)] - v[idx]))
    return phi


def rel_error(est, exact):
    return float(np.mean([np.linalg.norm(np.asarray(e) - p) / np.linalg.norm(p)
                          for e, p in zip(est, exact)]))


# ------------------------------------------------------------------------------ Python tools

def shap_kernel(predict, x, bg, budget, seed):
    import shap
    explainer = shap.KernelExplainer(predict, bg.astype(np.float64))
    np.random.seed(seed)  # KernelExplainer draws coalitions with np.random
    t0 = time.perf_counter()
    vals = [np.asarray(explainer.shap_values(row[None, :].astype(np.float64), nsamples=budget,
                                             silent=True, l1_reg=False)).reshape(-1)
            for row in x]
    return (time.perf_counter() - t0) / len(x), vals


def shap_permutation(predict, x, bg, budget, seed):
    import shap
    masker = shap.maskers.Independent(bg.astype(np.float64), max_samples=len(bg))
    explainer = shap.PermutationExplainer(predict, masker, seed=seed)
    t0 = time.perf_counter()
    # batch_size: shap's default of 10 coalitions per model call is ~400x slower here.
    vals = [np.asarray(explainer(row[None, :].astype(np.float64), max_evals=budget,
                                 batch_size=500, silent=True).values).reshape(-1) for row in x]
    return (time.perf_counter() - t0) / len(x), vals


def python_lime(predict, x, bg, budget, seed):
    from lime.lime_tabular import LimeTabularExplainer
    explainer = LimeTabularExplainer(bg.astype(np.float64), mode="regression",
                                     discretize_continuous=False, random_state=seed)
    t0 = time.perf_counter()
    for row in x:
        explainer.explain_instance(row.astype(np.float64), predict,
                                   num_features=x.shape[1], num_samples=budget)
    return (time.perf_counter() - t0) / len(x), None


# ------------------------------------------------------------------------------ our CLI

def ours(binary, spec, command, method, budget, seed, threads, workdir, backend=None):
    out = os.path.join(workdir, "out.json")
    cmd = [binary, command, "--model", rel(spec["model"]), "--input", rel(spec["input"]),
           "--background", rel(spec["background"]), "--target", str(spec["target"]),
           "--samples", str(budget), "--seed", str(seed), "--quiet", "--out", out]
    if method:
        cmd += ["--method", method]
    if threads:
        cmd += ["--threads", str(threads)]
    if backend:
        cmd += ["--backend", backend]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    elapsed = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stderr}")
    with open(out, encoding="utf-8") as fh:
        doc = json.load(fh)
    vals = [np.asarray(e["values"]) for e in doc["explanations"]]
    return elapsed / len(vals), vals


def peak_memory(binary, workdir):
    """Max RSS of one CLI run: inspection CNN, 200 SLIC superpixels, 8192 coalitions."""
    model = rel("models-sample/inspection/defect_cnn.onnx")
    cmd = [binary, "shap", "--model", model, "--output", "probabilities", "--channels", "gray",
           "--input", rel("models-sample/inspection/samples/crack.png"), "--target", "1",
           "--features", "slic:200", "--samples", "8192", "--quiet",
           "--out", os.path.join(workdir, "mem.json")]
    timer = shutil.which("time") or ("/usr/bin/time" if os.path.exists("/usr/bin/time") else None)
    t0 = time.perf_counter()
    if timer:
        proc = subprocess.run([timer, "-f", "%M"] + cmd, capture_output=True, text=True)
        if proc.returncode != 0:
            raise SystemExit(proc.stderr)
        kib = int(proc.stderr.strip().splitlines()[-1])
    else:
        before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        subprocess.run(cmd, check=True)
        kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        if kib == before:
            kib = float("nan")
    seconds = time.perf_counter() - t0
    with open(os.path.join(workdir, "mem.json"), encoding="utf-8") as fh:
        e = json.load(fh)["explanations"][0]
    return {"features": len(e["values"]), "coalitions": e["model_evals"],
            "max_rss_mib": kib / 1024, "seconds": seconds}


def criterion_estimates():
    """Median times (ns) of the criterion benches, by 'group/function'."""
    found = {}
    base = rel("target/criterion")
    for dirpath, _, files in os.walk(base):
        if "estimates.json" in files and os.path.basename(dirpath) == "new":
            with open(os.path.join(dirpath, "estimates.json"), encoding="utf-8") as fh:
                est = json.load(fh)
            name = os.path.relpath(os.path.dirname(dirpath), base)
            if name.split("/")[0].endswith(("_tract", "_ort")):  # the groups of engine.rs
                found[name] = est["median"]["point_estimate"]
    return found


# ------------------------------------------------------------------------------ main

def fmt(v, spec):
    return "n/a" if v is None or (isinstance(v, float) and math.isnan(v)) else format(v, spec)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--explain-bin", default=rel("target/release/explain"))
    ap.add_argument("--seeds", type=int, default=5, help="seeds per (tool, budget)")
    ap.add_argument("--quick", action="store_true", help="two budgets, two seeds")
    ap.add_argument("--backend", help="also run our CLI with this --backend (e.g. ort)")
    ap.add_argument("--markdown", default=rel("benches/RESULTS.md"))
    ap.add_argument("--json", default=rel("benches/results.json"))
    ap.add_argument("--render", action="store_true",
                    help="only rewrite --markdown from --json (and target/criterion)")
    args = ap.parse_args(argv)
    if args.render:
        with open(args.json, encoding="utf-8") as fh:
            results = json.load(fh)
        for m in results["models"]:  # LIME estimates no Shapley values
            for r in m["results"]:
                if "lime" in r["tool"]:
                    r["error"] = None
        results["criterion"] = criterion_estimates() or results.get("criterion", {})
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(results, fh, indent=1)
            fh.write("\n")
        with open(args.markdown, "w", encoding="utf-8") as fh:
            fh.write(markdown(results))
        return 0
    budgets = QUICK_BUDGETS if args.quick else BUDGETS
    seeds = list(range(1, (2 if args.quick else args.seeds) + 1))
    import shap
    import lime

    workdir = tempfile.mkdtemp(prefix="explain-compare-")
    env = {"date": datetime.date.today().isoformat(), "python": sys.version.split()[0],
           "numpy": np.__version__, "onnxruntime": ort.__version__, "shap": shap.__version__,
           "lime": getattr(lime, "__version__", "0.2.0.1"), "platform": platform.platform(),
           "cpus": os.cpu_count(),
           "explain": subprocess.run([args.explain_bin, "--version"], capture_output=True,
                                     text=True).stdout.strip()}
    results = {"environment": env, "budgets": budgets, "seeds": seeds, "models": []}
    try:
        for spec in MODELS:
            x, bg = load_2d(rel(spec["input"])), load_2d(rel(spec["background"]))
            predict = make_predict(make_session(rel(spec["model"])), spec["target"])
            t0 = time.perf_counter()
            exact = [exact_shapley(predict, row, bg) for row in x]
            exact_ms = (time.perf_counter() - t0) / len(x) * 1e3
            tools = [
                ("shap KernelExplainer", lambda b, s: shap_kernel(predict, x, bg, b, s)),
                ("shap PermutationExplainer", lambda b, s: shap_permutation(predict, x, bg, b, s)),
                ("lime LimeTabularExplainer", lambda b, s: python_lime(predict, x, bg, b, s)),
            ]
            for method in ("kernel", "leverage", "permutation"):
                for threads in (1, None):
                    label = f"explain {method}" + (" (1 thread)" if threads == 1 else "")
                    tools.append((label, lambda b, s, m=method, t=threads: ours(
                        args.explain_bin, spec, "shap", m, b, s, t, workdir)))
            tools.append(("explain lime (1 thread)", lambda b, s: ours(
                args.explain_bin, spec, "lime", None, b, s, 1, workdir)))
            if args.backend:
                tools.append((f"explain leverage --backend {args.backend} (1 thread)",
                              lambda b, s: ours(args.explain_bin, spec, "shap", "leverage", b, s,
                                                1, workdir, args.backend)))
            rows = []
            for name, run in tools:
                for b in budgets:
                    if "Permutation" in name and b < 2 * x.shape[1] + 1:
                        continue
                    times, errors = [], []
                    for s in seeds:
                        t, vals = run(b, s)
                        times.append(t * 1e3)
                        if vals is not None and "lime" not in name:  # LIME is no Shapley estimate
                            errors.append(rel_error(vals, exact))
                    rows.append({"tool": name, "budget": b, "ms": statistics.median(times),
                                 "ms_all": times,
                                 "error": statistics.mean(errors) if errors else None})
                    print(f"{spec['key']:6} {name:44} {b:6} {rows[-1]['ms']:9.2f} ms  "
                          f"err {fmt(rows[-1]['error'], '.4f')}", flush=True)
            results["models"].append({"name": spec["name"], "spec": spec,
                                      "rows": len(x), "features": x.shape[1],
                                      "background": len(bg), "exact_ms": exact_ms,
                                      "results": rows})
        results["memory"] = peak_memory(args.explain_bin, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    results["criterion"] = criterion_estimates()
    with open(args.json, "w", encoding="utf-8") as fh:
        json.dump(results, fh, indent=1)
        fh.write("\n")
    text = markdown(results)
    with open(args.markdown, "w", encoding="utf-8") as fh:
        fh.write(text)
    print(text)
    return 0


def pick(rows, tool, budget):
    for r in rows:
        if r["tool"] == tool and r["budget"] == budget:
            return r
    return None


def to_reach(rows, tool):
    ok = [r for r in rows if r["tool"] == tool and r["error"] is not None
          and r["error"] <= TARGET_ERROR]
    return min(ok, key=lambda r: r["budget"]) if ok else None


def markdown(res):
    env = res["environment"]
    out = ["# Benchmarks: explain against Python shap and lime", "",
           "Written by `benches/compare.py` (see its docstring for what is measured); "
           "numbers are medians over seeds "
           f"{res['seeds'][0]}..{res['seeds'][-1]} on this machine: {env['platform']}, "
           f"{env['cpus']} CPUs, {env['date']}. {env['explain']}; Python {env['python']}, "
           f"shap {env['shap']}, lime {env['lime']}, onnxruntime {env['onnxruntime']}, "
           f"numpy {env['numpy']}.", "",
           "Our CLI is timed as a whole process (start, model load, reading inputs, writing "
           "JSON) divided by the rows explained; shap and lime only around the explain call. "
           "`explain <method>` runs on the default thread count (2 here), `(1 thread)` with "
           "`--threads 1`; the Python tools run their model on one onnxruntime thread (shap's "
           "own code is single-threaded). This virtual machine is noisy: repeated criterion "
           "runs of the same bench differ by up to 20%, so engine ratios below 1 only mean "
           "that the engine's overhead is within that noise.", ""]
    for m in res["models"]:
        rows = m["results"]
        tools = list(dict.fromkeys(r["tool"] for r in rows))
        out += [f"## {m['name']}", "",
                f"{m['rows']} rows explained, {m['features']} features, {m['background']} "
                f"background rows; exact reference by enumeration ({m['exact_ms']:.0f} ms per "
                "row in Python). Cells: ms per explanation / mean relative L2 error vs exact.",
                "", "| tool | " + " | ".join(str(b) for b in res["budgets"]) + " |",
                "|---|" + "---:|" * len(res["budgets"])]
        for t in tools:
            cells = []
            for b in res["budgets"]:
                r = pick(rows, t, b)
                cells.append("–" if r is None else
                             f"{r['ms']:.1f} / {fmt(r['error'], '.3f')}")
            out.append(f"| {t} | " + " | ".join(cells) + " |")
        out += ["", f"To reach a mean relative error of {TARGET_ERROR} (cheapest budget on the "
                "ladder):", "", "| tool | budget | ms / explanation |", "|---|---:|---:|"]
        for t in tools:
            r = to_reach(rows, t)
            if r is not None:
                out.append(f"| {t} | {r['budget']} | {r['ms']:.1f} |")
            elif any(x["error"] is not None for x in rows if x["tool"] == t):
                out.append(f"| {t} | not reached | – |")
        out += [""] + targets(res, m) + [""]
    mem = res.get("memory")
    if mem:
        out += ["## Peak memory", "",
                f"`explain shap` on the inspection CNN with `--features slic:200` "
                f"({mem['features']} superpixels) and `--samples 8192` ({mem['coalitions']} "
                f"coalitions): max RSS **{mem['max_rss_mib']:.0f} MiB**, {mem['seconds']:.1f} s "
                "wall.", ""]
    crit = res.get("criterion") or {}
    if crit:
        out += ["## Engine (criterion, `cargo bench -p explain-benches`)", "",
                "| bench | median |", "|---|---:|"]
        for k in sorted(crit):
            out.append(f"| `{k}` | {crit[k] / 1e6:.2f} ms |")
        out += [""] + engine_ratios(crit) + [""]
    return "\n".join(out) + "\n"


def targets(res, m):
    rows = m["results"]
    lines = ["Targets:", ""]
    k = "shap KernelExplainer"
    ours_tools = ["explain leverage", "explain kernel"] + sorted(
        {r["tool"] for r in rows if "--backend" in r["tool"]})
    for ours_tool in ours_tools:
        ratios_err, ratios_time = [], []
        for b in res["budgets"]:
            a, o = pick(rows, k, b), pick(rows, ours_tool, b)
            # Skip budgets where shap is exact (all 2^M − 2 coalitions): no ratio to take.
            if a and o and a["error"] and a["error"] > 1e-9 and o["error"] is not None:
                ratios_err.append((b, o["error"] / a["error"]))
                ratios_time.append((b, a["ms"] / o["ms"]))
        if ratios_err:
            lines.append(f"- {ours_tool}, error ÷ shap KernelExplainer's at equal budget: " +
                         ", ".join(f"{r:.2f} ({b})" for b, r in ratios_err) +
                         " (target ≤ 0.6)")
            lines.append(f"- {ours_tool} speed-up over shap KernelExplainer at equal budget: " +
                         ", ".join(f"{r:.1f}× ({b})" for b, r in ratios_time) +
                         " (target ≥ 3×)")
        a, o = to_reach(rows, k), to_reach(rows, ours_tool)
        if a and o:
            lines.append(f"- to reach error {TARGET_ERROR}: shap KernelExplainer {a['ms']:.1f} ms "
                         f"(budget {a['budget']}), {ours_tool} {o['ms']:.1f} ms (budget "
                         f"{o['budget']}): **{a['ms'] / o['ms']:.1f}×** (target ≥ 10×)")
    return lines


def engine_ratios(crit):
    lines = []
    groups = sorted({k.split("/")[0] for k in crit})
    for g in groups:
        get = lambda f: crit.get(f"{g}/{f}")
        raw = get("raw_inference_same_rows")
        for f in sorted(k.split("/", 1)[1] for k in crit if k.startswith(g + "/")):
            # Kernel and Leverage SHAP run the same number of rows as the raw reference.
            if f in ("kernel_explanation", "leverage_explanation"):
                if raw:
                    lines.append(f"- `{g}`: `{f}` ÷ raw inference of the same rows = "
                                 f"**{get(f) / raw:.2f}×** (target ≤ 1.15)")
        one, two = get("kernel_1_thread"), get("kernel_2_threads")
        if one and two:
            lines.append(f"- `{g}`: 1 → 2 threads speed-up **{one / two:.2f}×** (target ≥ 1.8)")
    return lines


if __name__ == "__main__":
    sys.exit(main())
