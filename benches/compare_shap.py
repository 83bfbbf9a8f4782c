#!/usr/bin/env python3
"""Side-by-side timing and accuracy of Python shap's KernelExplainer and the explain CLI.

Example (from the repository root):

    /work/venv/bin/python benches/compare_shap.py \
        --model models-sample/tabular/wine_mlp.onnx \
        --input models-sample/tabular/samples.npy \
        --background models-sample/tabular/background.npy \
        --target 0 --samples 2048 \
        [--explain-bin target/release/explain] [--repeats 3] [--out results.json]

What is measured, per explanation (= one input row, one target output):
  * shap: wall time of KernelExplainer.shap_values(row, nsamples=N, l1_reg=False), model
    evaluated by onnxruntime (CPU, 1 intra-op and 1 inter-op thread). The explainer is
    built once (its construction, which evaluates the background, is timed separately).
  * explain (if --explain-bin): wall time of one CLI process explaining all rows, divided
    by the number of rows; this includes process start and model loading. Run with the
    CLI's default thread count and with --threads 1.
  Each is repeated --repeats times; best and median are reported.
  * Accuracy: mean over rows of the relative L2 error |phi_hat - phi| / |phi| against
    exact Shapley values computed here by enumerating all 2^M coalitions (M <= 14), with
    the interventional value function v(S) = mean_b f(x_S, b_notS)[target] (identity link).
"""

import argparse
import json
import math
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np
import onnxruntime as ort

F32 = np.float32


def make_session(model_path):
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    return ort.InferenceSession(model_path, sess_options=so, providers=["CPUExecutionProvider"])


def make_predict(sess, target):
    input_name = sess.get_inputs()[0].name

    def predict(x):
        x = np.ascontiguousarray(np.asarray(x, dtype=F32))
        if x.ndim == 1:
            x = x[None, :]
        out = sess.run(None, {input_name: x})[0]
        out = out.reshape(out.shape[0], -1)
        return out[:, target].astype(np.float64)

    return predict


def load_2d(p):
    a = np.load(p, allow_pickle=False)
    if a.ndim == 1:
        a = a[None, :]
    assert a.ndim == 2, f"{p}: expected a 2-D array, got shape {a.shape}"
    return np.ascontiguousarray(a.astype(F32))


def exact_shapley(predict, x_row, bg, chunk_rows=1 << 18):
    """Exact Shapley values (float64) by enumerating all coalitions, identity link."""
    m = x_row.shape[0]
    k = 1 << m
    masks = ((np.arange(k)[:, None] >> np.arange(m)[None, :]) & 1).astype(bool)
    v = np.empty(k, dtype=np.float64)
    per_chunk = max(1, chunk_rows // bg.shape[0])
    for start in range(0, k, per_chunk):
        mk = masks[start:start + per_chunk]
        rows = np.where(mk[:, None, :], x_row[None, None, :], bg[None, :, :])
        out = predict(rows.reshape(-1, m)).reshape(mk.shape[0], bg.shape[0])
        v[start:start + mk.shape[0]] = out.mean(axis=1)
    weights = np.array([math.factorial(s) * math.factorial(m - s - 1) / math.factorial(m)
                        for s in range(m)])
    sizes = masks.sum(axis=1)
    phi = np.empty(m)
    for i in range(m):
        without = ~masks[:, i]
        idx = np.flatnonzero(without)
        phi[i] = np.sum(weights[sizes[idx]] * (v[idx | (1 << i)] - v[idx]))
    return phi, v[0], v[-1]


def rel_errors(est, exact):
    errs = []
    for e, p in zip(est, exact):
        e = np.asarray(e, dtype=np.float64).reshape(-1)
        norm = np.linalg.norm(p)
        errs.append(float(np.linalg.norm(e - p) / norm) if norm > 0 else float("nan"))
    return errs


def timing_summary(per_expl_seconds):
    ms = [t * 1e3 for t in per_expl_seconds]
    return {"best_ms": min(ms), "median_ms": statistics.median(ms), "all_ms": ms}


def run_shap(predict, x, bg, nsamples, repeats):
    import shap

    t0 = time.perf_counter()
    explainer = shap.KernelExplainer(predict, bg.astype(np.float64))
    init_s = time.perf_counter() - t0
    per_expl, values = [], None
    for rep in range(repeats):
        np.random.seed(rep + 1)  # KernelExplainer samples coalitions with np.random
        vals = []
        t0 = time.perf_counter()
        for row in x:
            sv = explainer.shap_values(row[None, :].astype(np.float64), nsamples=nsamples,
                                       silent=True, l1_reg=False)
            vals.append(np.asarray(sv, dtype=np.float64).reshape(-1))
        per_expl.append((time.perf_counter() - t0) / len(x))
        if values is None:
            values = vals
    return {"tool": "python shap KernelExplainer", "threads": 1,
            "init_ms": init_s * 1e3, "shap_version": shap.__version__,
            **timing_summary(per_expl)}, values


def read_our_json(p):
    """Our CLI's attribution JSON: {"explanations": [{"values": [...], ...}, ...]}."""
    with open(p, encoding="utf-8") as fh:
        doc = json.load(fh)
    return [np.asarray(e["values"], dtype=np.float64) for e in doc["explanations"]]


def run_explain(bin_path, args, n_rows, threads, repeats, workdir):
    label = "explain (CLI)" if threads is None else f"explain (CLI, --threads {threads})"
    out_path = os.path.join(workdir, f"explain-{threads or 'default'}.json")
    cmd = [bin_path, "shap", "--model", args.model, "--input", args.input,
           "--background", args.background, "--target", str(args.target),
           "--method", "kernel", "--samples", str(args.samples), "--seed", "1",
           "--quiet", "--out", out_path]
    if threads is not None:
        cmd += ["--threads", str(threads)]
    per_expl, values = [], None
    for _ in range(repeats):
        if os.path.exists(out_path):
            os.remove(out_path)
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        elapsed = time.perf_counter() - t0
        if proc.returncode != 0:
            raise SystemExit(f"{' '.join(cmd)} failed with exit code {proc.returncode}:\n"
                             f"{proc.stderr}")
        per_expl.append(elapsed / n_rows)
        if values is None:
            values = read_our_json(out_path)
            if len(values) != n_rows:
                raise SystemExit(f"{out_path}: expected {n_rows} explanations, got {len(values)}")
    return {"tool": label, "threads": threads if threads is not None else "default",
            "command": cmd, **timing_summary(per_expl)}, values


def fmt(v, spec):
    return "n/a" if v is None or (isinstance(v, float) and math.isnan(v)) else format(v, spec)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", required=True)
    ap.add_argument("--input", required=True, help=".npy, [rows, M] float32")
    ap.add_argument("--background", required=True, help=".npy, [B, M] float32")
    ap.add_argument("--target", type=int, default=0, help="output column to explain")
    ap.add_argument("--samples", type=int, required=True, help="nsamples (coalitions) per explanation")
    ap.add_argument("--explain-bin", help="path to the explain CLI binary")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--exact-max-features", type=int, default=14,
                    help="compute exact Shapley values when M <= this (default 14)")
    ap.add_argument("--out", help="write the results as JSON here")
    args = ap.parse_args(argv)

    x = load_2d(args.input)
    bg = load_2d(args.background)
    m = x.shape[1]
    assert bg.shape[1] == m, f"input has {m} features, background {bg.shape[1]}"
    sess = make_session(args.model)
    predict = make_predict(sess, args.target)

    results = []
    shap_res, shap_vals = run_shap(predict, x, bg, args.samples, args.repeats)
    results.append((shap_res, shap_vals))

    if args.explain_bin:
        workdir = tempfile.mkdtemp(prefix="compare_shap-")
        try:
            for threads in (None, 1):
                results.append(run_explain(args.explain_bin, args, len(x), threads,
                                           args.repeats, workdir))
        finally:
            shutil.rmtree(workdir, ignore_errors=True)

    exact = None
    if m <= args.exact_max_features:
        t0 = time.perf_counter()
        exact = [exact_shapley(predict, row, bg) for row in x]
        exact_ms = (time.perf_counter() - t0) / len(x) * 1e3
        exact_phi = [e[0] for e in exact]
        for res, vals in results:
            errs = rel_errors(vals, exact_phi)
            res["rel_errors"] = errs
            res["rel_error_mean"] = float(np.mean(errs))
        results.append(({"tool": "exact enumeration (python, onnxruntime)", "threads": 1,
                         "best_ms": exact_ms, "median_ms": exact_ms, "all_ms": [exact_ms],
                         "rel_error_mean": 0.0}, exact_phi))

    print(f"model {args.model}: {len(x)} rows x {m} features, background {bg.shape[0]} rows, "
          f"target {args.target}, nsamples {args.samples}, repeats {args.repeats}")
    print()
    print("| tool | threads | wall ms / explanation (best) | (median) | mean rel. L2 error vs exact |")
    print("|---|---|---:|---:|---:|")
    for res, _ in results:
        print(f"| {res['tool']} | {res['threads']} | {fmt(res['best_ms'], '.2f')} | "
              f"{fmt(res['median_ms'], '.2f')} | {fmt(res.get('rel_error_mean'), '.2e')} |")
    if exact is None:
        print(f"\n(no exact reference: M = {m} > --exact-max-features {args.exact_max_features})")

    if args.out:
        doc = {
            "config": {k: getattr(args, k) for k in ("model", "input", "background", "target",
                                                      "samples", "explain_bin", "repeats")},
            "rows": len(x), "features": m, "background_rows": int(bg.shape[0]),
            "environment": {"python": sys.version.split()[0], "numpy": np.__version__,
                            "onnxruntime": ort.__version__, "platform": platform.platform(),
                            "cpu_count": os.cpu_count()},
            "results": [res for res, _ in results],
            "values": {res["tool"]: [np.asarray(v).tolist() for v in vals] for res, vals in results},
        }
        if exact is not None:
            doc["exact"] = [{"values": phi.tolist(), "base_value": float(b), "prediction": float(p)}
                            for phi, b, p in exact]
        with open(args.out, "w", encoding="utf-8") as fh:
            json.dump(doc, fh, indent=1)
            fh.write("\n")
        print(f"\nwrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
