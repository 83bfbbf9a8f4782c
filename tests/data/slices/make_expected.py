#!/usr/bin/env python3
"""Reference values for `explain slices` on the industrial-inspection sample.

Run from the repository root:

    /work/venv/bin/python tests/data/slices/make_expected.py

It writes tests/data/slices/inspection_expected.json and prints a short summary.

What it does (independently of the Rust code):

1. Runs models-sample/inspection/defect_cnn.onnx with onnxruntime (CPUExecutionProvider,
   one thread) on every image listed in models-sample/inspection/manifest.csv. The input
   is the 8-bit grayscale PNG as float32 pixel / 255, NCHW [N,1,64,64]. score =
   probabilities[:, 1] (P(defect)); predicted = 1 if score >= 0.5 else 0. The script
   stops if any score lies within 1e-4 of 0.5, since a float difference between runtimes
   could then flip the prediction.
2. Computes metrics with fairlearn.metrics.MetricFrame, overall and by surface, site,
   lighting, defect_kind and by the intersection (site, lighting): accuracy (sklearn),
   selection_rate, tpr, fpr, fnr (fairlearn), precision (sklearn, zero_division=nan) and
   n (fairlearn count).
3. For each metric its denominator (accuracy, selection_rate: n; tpr, fnr: label-1 items;
   fpr: label-0 items; precision: predicted-1 items) and the Wilson 95% interval from
   statsmodels.stats.proportion.proportion_confint(count, nobs, alpha=0.05,
   method="wilson"); null when the denominator is 0.
4. For each single attribute and metric, MetricFrame.ratio / .difference with
   method="between_groups".

Undefined values. A metric whose denominator is 0 in a group (fpr of a defect kind: no
label-0 items; tpr/fnr of defect_kind=none: no label-1 items) is undefined and is written
as null. Note that fairlearn's true_positive_rate / false_positive_rate /
false_negative_rate do NOT return NaN there: they go through
sklearn.metrics.confusion_matrix(normalize="true"), which replaces 0/0 by 0.0
(nan_to_num), so they return 0.0. This script therefore wraps them: the fairlearn
function is called only when its denominator is positive, otherwise the metric is NaN.
The ratio/difference then skip the NaN groups (pandas min/max skip NaN), i.e. they are
taken over the groups where the metric is defined; `groups` in each disparity entry says
how many groups that was.

Every value computed by fairlearn/sklearn is checked against the plain count ratio
successes / denominator used for the Wilson interval.
"""

import os

# Single-threaded numerics: deterministic output.  Must precede `import numpy`.
for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
           "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ[_v] = "1"

import csv  # noqa: E402
import hashlib  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import platform  # noqa: E402
import sys  # noqa: E402

import fairlearn  # noqa: E402
import numpy as np  # noqa: E402
import onnxruntime as ort  # noqa: E402
import pandas as pd  # noqa: E402
import PIL  # noqa: E402
import scipy  # noqa: E402
import sklearn  # noqa: E402
import statsmodels  # noqa: E402
from fairlearn.metrics import (  # noqa: E402
    MetricFrame,
    count,
    false_negative_rate,
    false_positive_rate,
    selection_rate,
    true_positive_rate,
)
from PIL import Image  # noqa: E402
from sklearn.metrics import accuracy_score, precision_score  # noqa: E402
from statsmodels.stats.proportion import proportion_confint  # noqa: E402

MODEL = "models-sample/inspection/defect_cnn.onnx"
MANIFEST = "models-sample/inspection/manifest.csv"
OUT_DIR = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(OUT_DIR, "inspection_expected.json")
REPO = os.path.abspath(os.path.join(OUT_DIR, "..", "..", ".."))

THRESHOLD = 0.5
POSITIVE = 1
MARGIN = 1e-4
BATCH = 32

ATTRIBUTES = ["surface", "site", "lighting", "defect_kind"]
INTERSECTION = ("site", "lighting")
INTERSECTION_NAME = "site & lighting"
METRICS = ["accuracy", "selection_rate", "tpr", "fpr", "fnr", "precision"]


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        h.update(f.read())
    return h.hexdigest()


# ----------------------------------------------------------------------------- metrics
# Wrapped so that a zero denominator gives NaN (see the module docstring).

def m_accuracy(y_true, y_pred):
    return accuracy_score(y_true, y_pred)


def m_selection_rate(y_true, y_pred):
    return selection_rate(y_true, y_pred, pos_label=POSITIVE)


def m_tpr(y_true, y_pred):
    if not (np.asarray(y_true) == POSITIVE).any():
        return np.nan
    return true_positive_rate(y_true, y_pred, pos_label=POSITIVE)


def m_fpr(y_true, y_pred):
    if not (np.asarray(y_true) != POSITIVE).any():
        return np.nan
    return false_positive_rate(y_true, y_pred, pos_label=POSITIVE)


def m_fnr(y_true, y_pred):
    if not (np.asarray(y_true) == POSITIVE).any():
        return np.nan
    return false_negative_rate(y_true, y_pred, pos_label=POSITIVE)


def m_precision(y_true, y_pred):
    return precision_score(y_true, y_pred, pos_label=POSITIVE, zero_division=np.nan)


METRIC_FNS = {
    "accuracy": m_accuracy,
    "selection_rate": m_selection_rate,
    "tpr": m_tpr,
    "fpr": m_fpr,
    "fnr": m_fnr,
    "precision": m_precision,
    "n": count,
}


def successes_and_denominators(y_true, y_pred):
    """(successes, denominator) for each metric, from plain counts."""
    y_true = np.asarray(y_true)
    y_pred = np.asarray(y_pred)
    pos = y_true == POSITIVE
    sel = y_pred == POSITIVE
    tp = int(np.sum(pos & sel))
    fp = int(np.sum(~pos & sel))
    fn = int(np.sum(pos & ~sel))
    n = int(y_true.size)
    n_pos = int(pos.sum())
    return {
        "accuracy": (int(np.sum(y_true == y_pred)), n),
        "selection_rate": (int(sel.sum()), n),
        "tpr": (tp, n_pos),
        "fpr": (fp, n - n_pos),
        "fnr": (fn, n_pos),
        "precision": (tp, int(sel.sum())),
    }


def num(x):
    """Python float, or None for NaN."""
    x = float(x)
    if math.isnan(x):
        return None
    if math.isinf(x):
        raise SystemExit(f"unexpected infinite value {x}")
    return x


def metric_block(values, y_true, y_pred, where):
    """{"n": ..., "metrics": {...}} for one group; `values` maps metric -> fairlearn value."""
    counts = successes_and_denominators(y_true, y_pred)
    n = int(values["n"])
    if n != len(y_true):
        raise SystemExit(f"{where}: fairlearn count {n} != {len(y_true)}")
    out = {}
    for m in METRICS:
        k, d = counts[m]
        v = num(values[m])
        if d == 0:
            if v is not None:
                raise SystemExit(f"{where} {m}: denominator 0 but value {v}")
            ci = None
        else:
            if v is None:
                raise SystemExit(f"{where} {m}: value NaN with denominator {d}")
            if abs(v - k / d) > 1e-12:
                raise SystemExit(f"{where} {m}: fairlearn {v!r} != {k}/{d}")
            lo, hi = proportion_confint(k, d, alpha=0.05, method="wilson")
            ci = [float(lo), float(hi)]
        out[m] = {"value": v, "ci95": ci, "n": d}
    return {"n": n, "metrics": out}


# ----------------------------------------------------------------------------- main

def main():
    os.chdir(REPO)
    manifest_dir = os.path.dirname(MANIFEST)
    with open(MANIFEST, newline="") as f:
        rows = list(csv.DictReader(f))
    if not rows:
        raise SystemExit("empty manifest")
    cols = ["input", "label"] + ATTRIBUTES
    for c in cols:
        if c not in rows[0]:
            raise SystemExit(f"manifest lacks column {c}")

    # --- images -> [N,1,64,64] float32, pixel / 255
    images = []
    for r in rows:
        with Image.open(os.path.join(manifest_dir, r["input"])) as im:
            if im.mode != "L" or im.size != (64, 64):
                raise SystemExit(f"{r['input']}: mode {im.mode} size {im.size}, "
                                 "expected L 64x64")
            a = np.asarray(im, dtype=np.uint8)
        images.append(a.astype(np.float32) / np.float32(255.0))
    x = np.stack(images)[:, None, :, :]
    assert x.dtype == np.float32 and x.shape == (len(rows), 1, 64, 64)

    # --- onnxruntime, one thread
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    sess = ort.InferenceSession(MODEL, sess_options=so, providers=["CPUExecutionProvider"])
    in_name = sess.get_inputs()[0].name
    probs = []
    for i in range(0, len(x), BATCH):
        (p,) = sess.run(["probabilities"], {in_name: x[i:i + BATCH]})
        probs.append(p)
    probs = np.concatenate(probs)
    assert probs.shape == (len(rows), 2) and probs.dtype == np.float32
    score = probs[:, 1]
    margins = np.abs(score.astype(np.float64) - THRESHOLD)
    i_min = int(np.argmin(margins))
    min_margin = float(margins[i_min])
    if min_margin < MARGIN:
        raise SystemExit(f"score of {rows[i_min]['input']} = {float(score[i_min])!r} lies "
                         f"within {MARGIN} of the threshold {THRESHOLD}: a float difference "
                         "between runtimes could flip its prediction")
    y_pred = (score >= np.float32(THRESHOLD)).astype(np.int64)
    y_true = np.array([int(r["label"]) for r in rows], dtype=np.int64)
    if not set(np.unique(y_true)) <= {0, 1}:
        raise SystemExit("labels must be 0/1")

    df = pd.DataFrame({c: [r[c] for r in rows] for c in ATTRIBUTES})

    predictions = [
        {"input": r["input"], "label": int(y_true[i]), "score": float(score[i]),
         "predicted": int(y_pred[i])}
        for i, r in enumerate(rows)
    ]

    # --- overall (a MetricFrame's overall does not depend on the grouping)
    mf0 = MetricFrame(metrics=METRIC_FNS, y_true=y_true, y_pred=y_pred,
                      sensitive_features=df["surface"])
    overall = metric_block(mf0.overall, y_true, y_pred, "overall")

    slices = []
    disparities = []
    summary = []
    for attr in ATTRIBUTES + [INTERSECTION]:
        if isinstance(attr, tuple):
            sf = df[list(attr)]
            name = INTERSECTION_NAME
        else:
            sf = df[attr]
            name = attr
        mf = MetricFrame(metrics=METRIC_FNS, y_true=y_true, y_pred=y_pred,
                         sensitive_features=sf)
        for m in METRICS + ["n"]:
            a, b = num(mf.overall[m]), num(mf0.overall[m])
            if a != b:
                raise SystemExit(f"overall {m} differs between groupings: {a} vs {b}")
        by = mf.by_group
        keys = list(by.index)
        if isinstance(attr, tuple):
            keys = sorted(keys, key=lambda k: tuple(str(p) for p in k))
        else:
            keys = sorted(keys, key=str)
        accs = []
        for key in keys:
            if isinstance(attr, tuple):
                mask = np.ones(len(rows), dtype=bool)
                for col, val in zip(attr, key):
                    mask &= (df[col] == val).to_numpy()
                value = " & ".join(str(p) for p in key)
            else:
                mask = (df[attr] == key).to_numpy()
                value = str(key)
            if not mask.any():
                continue  # empty intersection (fairlearn does not list these)
            block = metric_block(by.loc[key], y_true[mask], y_pred[mask], f"{name}={value}")
            slices.append({"attribute": name, "value": value, **block})
            accs.append((block["metrics"]["accuracy"]["value"], value))
        # empty combinations: fairlearn omits them; make sure our slice list agrees
        present = {tuple(k) if isinstance(k, tuple) else k for k in keys}
        if isinstance(attr, tuple):
            actual = set(map(tuple, df[list(attr)].drop_duplicates().to_numpy().tolist()))
        else:
            actual = set(df[attr].unique())
        if present != actual:
            raise SystemExit(f"{name}: fairlearn groups {sorted(present)} != data {sorted(actual)}")

        if not isinstance(attr, tuple):
            ratio = mf.ratio(method="between_groups")
            diff = mf.difference(method="between_groups")
            for m in METRICS:
                defined = int(by[m].notna().sum())
                disparities.append({"attribute": name, "metric": m, "ratio": num(ratio[m]),
                                    "difference": num(diff[m]), "groups": defined})
        accs.sort()
        summary.append((name, accs[0], accs[-1]))

    result = {
        "model": MODEL,
        "model_sha256": sha256(MODEL),
        "manifest": MANIFEST,
        "manifest_sha256": sha256(MANIFEST),
        "threshold": THRESHOLD,
        "positive": POSITIVE,
        "min_margin": min_margin,
        "versions": {
            "python": platform.python_version(),
            "fairlearn": fairlearn.__version__,
            "onnxruntime": ort.__version__,
            "statsmodels": statsmodels.__version__,
            "numpy": np.__version__,
            "sklearn": sklearn.__version__,
            "pandas": pd.__version__,
            "scipy": scipy.__version__,
            "pillow": PIL.__version__,
        },
        "predictions": predictions,
        "overall": overall,
        "slices": slices,
        "disparities": disparities,
    }
    text = json.dumps(result, sort_keys=True, indent=1, allow_nan=False)
    with open(OUT, "w", newline="\n") as f:
        f.write(text + "\n")

    # --- human summary
    om = overall["metrics"]
    print(f"wrote {os.path.relpath(OUT, REPO)}: {len(predictions)} predictions, "
          f"{len(slices)} slices, {len(disparities)} disparities")
    print(f"min |score - 0.5| = {min_margin:.6g} ({rows[i_min]['input']})")
    print("overall: n={}  ".format(overall["n"]) + "  ".join(
        f"{m}={om[m]['value']:.4f}" for m in METRICS))
    for name, worst, best in summary:
        print(f"{name:16s} accuracy worst {worst[1]} {worst[0]:.4f}, best {best[1]} {best[0]:.4f}")
    undefined = [f"{s['attribute']}={s['value']}: {m}" for s in slices
                 for m in METRICS if s["metrics"][m]["value"] is None]
    if undefined:
        print("undefined (null): " + "; ".join(undefined))
    return 0


if __name__ == "__main__":
    sys.exit(main())
