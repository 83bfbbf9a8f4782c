#!/usr/bin/env python3
"""Reference numbers for models-sample/speech/ computed with onnxruntime (CPU, 1 thread).

Writes reference_ort.csv (model output per manifest item and per demo sample) and
reference_slices_ort.csv (per-slice detection / false-positive rates at threshold 0.5), and
prints the tables used in README.md.

Protocol (the one the explain CLI is meant to reproduce): each WAV is one 576-sample window at
16 kHz; input = int16 / 32768 as float32 [1, 576]; state = zeros [2, 1, 128]; score = output[0, 0].

  python models-sample/speech/evaluate_ort.py            # manifest + samples
  python models-sample/speech/evaluate_ort.py --context  # also: the same windows with the LSTM
                                                         # state warmed on the preceding audio
                                                         # (needs the asterisk Debian packages)
"""
import argparse
import csv
import math
import os
import wave
from collections import defaultdict

import numpy as np
import onnxruntime as ort

HERE = os.path.dirname(os.path.abspath(__file__))
THRESHOLD = 0.5
SLICE_COLS = ["source", "language", "locale", "speaker", "gender", "accent", "kind"]


def read_wav(path):
    with wave.open(path, "rb") as w:
        assert (w.getnchannels(), w.getsampwidth()) == (1, 2), path
        return w.getframerate(), np.frombuffer(w.readframes(w.getnframes()), "<i2")


def session():
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    return ort.InferenceSession(os.path.join(HERE, "silero_vad_openvino_16k.onnx"), so,
                                providers=["CPUExecutionProvider"])


def run(sess, win_i16, state=None):
    x = (win_i16.astype(np.float32) / 32768.0)[None, :]
    if state is None:
        state = np.zeros((2, 1, 128), np.float32)
    out, state_n = sess.run(["output", "stateN"], {"input": x, "state": state})
    return float(out[0, 0]), state_n


def wilson(k, n, z=1.959964):
    if n == 0:
        return (float("nan"), float("nan"))
    p = k / n
    d = 1 + z * z / n
    c = (p + z * z / (2 * n)) / d
    h = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / d
    return (max(0.0, c - h), min(1.0, c + h))


def auc(pos, neg):
    pos, neg = np.asarray(pos), np.asarray(neg)
    gt = (pos[:, None] > neg[None, :]).sum() + 0.5 * (pos[:, None] == neg[None, :]).sum()
    return gt / (len(pos) * len(neg))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--context", action="store_true")
    a = ap.parse_args()
    sess = session()
    rows = list(csv.DictReader(open(os.path.join(HERE, "manifest.csv"), encoding="utf-8")))
    for r in rows:
        sr, x = read_wav(os.path.join(HERE, r["input"]))
        assert sr == 16000 and len(x) == 576, r["input"]
        r["output"] = run(sess, x)[0]

    samples = list(csv.DictReader(open(os.path.join(HERE, "samples", "samples.csv"), encoding="utf-8")))
    for s in samples:
        sr, x = read_wav(os.path.join(HERE, s["input"]))
        if sr == 16000 and len(x) == 576:
            s["output"] = run(sess, x)[0]
        elif sr == 16000:   # longer clip: window with the highest energy, and streaming max
            e = np.convolve(x.astype(np.float64) ** 2, np.ones(576), "valid")
            off = int(np.argmax(e))
            s["output"] = run(sess, x[off:off + 576])[0]
            s["note"] = f"maxE window at 16 kHz offset {off}"
            st, ctx, ps = None, np.zeros(64, np.int16), []
            for i in range(0, len(x) - 511, 512):
                p, st = run(sess, np.concatenate([ctx, x[i:i + 512]]), st)
                ctx = x[i + 448:i + 512]
                ps.append(p)
            s["note"] += f"; streaming (512-sample hops, state carried) max {max(ps):.3f}, " \
                         f"{sum(p > THRESHOLD for p in ps)}/{len(ps)} chunks > 0.5"
        else:
            s["output"] = ""
            s["note"] = f"{sr} Hz: resample to 16 kHz first"

    with open(os.path.join(HERE, "reference_ort.csv"), "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["input", "label", "output"])
        for r in rows:
            w.writerow([r["input"], r["label"], f"{r['output']:.6f}"])
        for s in samples:
            w.writerow([s["input"], "", f"{s['output']:.6f}" if s["output"] != "" else ""])

    # ---- slices
    def stats(items):
        pos = [r["output"] for r in items if r["label"] == "1"]
        neg = [r["output"] for r in items if r["label"] == "0"]
        tp = sum(p > THRESHOLD for p in pos)
        fp = sum(p > THRESHOLD for p in neg)
        return pos, neg, tp, fp

    out = []
    pos, neg, tp, fp = stats(rows)
    out.append(("all", "all", pos, neg, tp, fp))
    for col in SLICE_COLS:
        groups = defaultdict(list)
        for r in rows:
            groups[r[col]].append(r)
        for v in sorted(groups):
            out.append((col, v) + stats(groups[v]))
    # language within recorded speech only, and source within English
    for col, filt, name in [("language", lambda r: r["source"] == "recorded", "language|recorded"),
                            ("source", lambda r: r["language"] == "en", "source|en"),
                            ("gender", lambda r: r["source"] == "synthetic", "gender|synthetic")]:
        groups = defaultdict(list)
        for r in rows:
            if filt(r):
                groups[r[col]].append(r)
        for v in sorted(groups):
            out.append((name, v) + stats(groups[v]))

    with open(os.path.join(HERE, "reference_slices_ort.csv"), "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["slice_by", "value", "n_speech", "detected", "detection_rate", "ci95_low",
                    "ci95_high", "mean_output_speech", "n_nonspeech", "false_pos", "fp_rate",
                    "max_output_nonspeech"])
        for col, v, pos, neg, tp, fp in out:
            lo, hi = wilson(tp, len(pos))
            w.writerow([col, v, len(pos), tp, f"{tp / len(pos):.4f}" if pos else "",
                        f"{lo:.4f}" if pos else "", f"{hi:.4f}" if pos else "",
                        f"{np.mean(pos):.4f}" if pos else "", len(neg), fp,
                        f"{fp / len(neg):.4f}" if neg else "", f"{max(neg):.4f}" if neg else ""])

    print("| slice | value | speech n | detected @0.5 | rate [95% CI] | mean p | non-speech n | FP | max p |")
    print("|---|---|---:|---:|---|---:|---:|---:|---:|")
    for col, v, pos, neg, tp, fp in out:
        lo, hi = wilson(tp, len(pos))
        rate = f"{tp / len(pos):.2f} [{lo:.2f}, {hi:.2f}]" if pos else "–"
        print(f"| {col} | {v} | {len(pos)} | {tp} | {rate} | "
              f"{np.mean(pos) if pos else float('nan'):.2f} | {len(neg)} | {fp} | "
              f"{max(neg) if neg else float('nan'):.3f} |")
    pos, neg, _, _ = stats(rows)
    print(f"\nAUC speech vs non-speech (all items): {auc(pos, neg):.4f}")
    for kind in ["tone", "chime", "animal", "silence", "pause"]:
        ks = [r["output"] for r in rows if r["kind"] == kind]
        print(f"  {kind}: n={len(ks)} max={max(ks):.4f} mean={np.mean(ks):.4f}")
    for thr in [0.1, 0.2, 0.3, 0.5]:
        print(f"  threshold {thr}: detection {np.mean(np.array(pos) > thr):.3f}, "
              f"FP rate {np.mean(np.array(neg) > thr):.3f}")
    print("\nDemo samples:")
    for s in samples:
        o = f"{s['output']:.4f}" if s["output"] != "" else "-"
        print(f"  {s['input']}: {o} {s.get('note', '')}")

    if a.context:
        context(sess, rows)


def context(sess, rows):
    """Same recorded speech windows, but with the LSTM state warmed on k preceding 512-sample
    chunks of the original clip (what a streaming VAD would have seen)."""
    from scipy.signal import resample_poly
    res = defaultdict(lambda: defaultdict(list))
    for r in rows:
        if r["source"] != "recorded" or r["kind"] != "speech":
            continue
        with wave.open(os.path.join("/usr/share/asterisk/sounds", r["clip"]), "rb") as w:
            x8 = np.frombuffer(w.readframes(w.getnframes()), "<i2")
        y = resample_poly(x8.astype(np.float64), 2, 1)
        x16 = np.clip(np.round(y), -32768, 32767).astype(np.int16)
        off = int(r["offset"])
        for k in [0, 1, 2, 4]:
            # pad with zeros before the clip start, as a stream starting from silence would
            pad = np.concatenate([np.zeros(512 * k, np.int16), x16])
            o = off + 512 * k
            st = None
            for j in range(k, -1, -1):
                p, st = run(sess, pad[o - 512 * j:o - 512 * j + 576], st)
            res[k][r["locale"]].append(p)
    print("\nRecorded speech windows, detection rate @0.5 with the state warmed on k preceding "
          "chunks (32 ms each; zeros before the clip start):")
    locs = sorted(res[0])
    print("| k | " + " | ".join(locs) + " |")
    print("|---|" + "---:|" * len(locs))
    for k in sorted(res):
        print(f"| {k} | " + " | ".join(f"{np.mean(np.array(res[k][l]) > THRESHOLD):.2f}"
                                       for l in locs) + " |")


if __name__ == "__main__":
    main()
