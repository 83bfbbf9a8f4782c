#!/usr/bin/env python3
"""Generate the tiny synthetic ONNX models and arrays used by the explain test suite.

Run from the repository root:

    /work/venv/bin/python tests/data/make_fixtures.py

Everything is deterministic: one numpy Generator (default_rng(20261122)) is drawn from
in a fixed order, the models are built by hand with onnx.helper, and the exact Shapley
values in mlp_expected.json are computed by enumerating all coalitions with onnxruntime
(CPUExecutionProvider, one thread). Re-running the script reproduces the files.

All models: opset 17, ir_version 8 (loadable by tract 0.23), float32, first input dim is
the symbolic dim_param "N" (except linear_fixed.onnx), producer_name "explain-fixtures".
All .npy files: float32, C order.
"""

import json
import math
import os
import sys

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

OUT_DIR = os.path.dirname(os.path.abspath(__file__))
SEED = 20261122
OPSET = 17
IR_VERSION = 8
PRODUCER = "explain-fixtures"

F32 = np.float32


# ----------------------------------------------------------------------------- helpers

def path(name):
    return os.path.join(OUT_DIR, name)


def f32(a):
    return np.ascontiguousarray(np.asarray(a, dtype=F32))


def save_npy(name, arr):
    arr = f32(arr)
    assert arr.dtype == F32 and arr.flags["C_CONTIGUOUS"]
    np.save(path(name), arr, allow_pickle=False)


def save_json(name, obj):
    with open(path(name), "w", encoding="utf-8") as fh:
        json.dump(obj, fh, indent=1)
        fh.write("\n")


def init(name, arr, dtype=F32):
    return numpy_helper.from_array(np.ascontiguousarray(np.asarray(arr, dtype=dtype)), name=name)


def vinfo(name, dims):
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, dims)


def make_model(graph_name, nodes, inputs, outputs, initializers, doc):
    graph = helper.make_graph(nodes, graph_name, inputs, outputs, initializer=initializers)
    model = helper.make_model(
        graph,
        producer_name=PRODUCER,
        opset_imports=[helper.make_opsetid("", OPSET)],
        doc_string=doc,
    )
    model.ir_version = IR_VERSION
    onnx.checker.check_model(model, full_check=True)
    return model


def write_png(filename, rgb):
    """A minimal 8-bit RGB PNG (no dependency beyond zlib), deterministic bytes."""
    import struct
    import zlib
    h, w, _ = rgb.shape
    raw = b"".join(b"\x00" + rgb[y].tobytes() for y in range(h))

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
    png += chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")
    with open(filename, "wb") as f:
        f.write(png)


def write_wav(filename, samples, rate):
    """16-bit PCM mono WAV (Python's wave module)."""
    import wave
    with wave.open(filename, "wb") as f:
        f.setnchannels(1)
        f.setsampwidth(2)
        f.setframerate(rate)
        f.writeframes(samples.astype("<i2").tobytes())


def save_model(name, model):
    onnx.save_model(model, path(name))


def session(name):
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    return ort.InferenceSession(path(name), sess_options=so, providers=["CPUExecutionProvider"])


def run(sess, x):
    inp = sess.get_inputs()[0].name
    return sess.run(None, {inp: f32(x)})[0]


def linear_model(graph_name, w, c, n_dim, doc):
    m = w.shape[0]
    nodes = [
        helper.make_node("MatMul", ["x", "w"], ["xw"]),
        helper.make_node("Add", ["xw", "c"], ["y"]),
    ]
    return make_model(
        graph_name,
        nodes,
        [vinfo("x", [n_dim, m])],
        [vinfo("y", [n_dim, 1])],
        [init("w", w), init("c", [c])],
        doc,
    )


def shapley_weights(m):
    # weight[s] = s! (M - s - 1)! / M!  for a coalition of size s not containing i
    return [math.factorial(s) * math.factorial(m - s - 1) / math.factorial(m) for s in range(m)]


def coalition_values(sess, x, bg):
    """Mean model output (float64) over background rows for every coalition.

    Returns (masks [2^M, M] bool, values [2^M, n_outputs] float64). Coalition index k has
    feature j present iff bit j of k is set.
    """
    m = x.shape[0]
    k = 1 << m
    masks = ((np.arange(k)[:, None] >> np.arange(m)[None, :]) & 1).astype(bool)
    rows = np.where(masks[:, None, :], x[None, None, :], bg[None, :, :])  # [K, B, M]
    out = run(sess, rows.reshape(k * bg.shape[0], m))  # float32 [K*B, outputs]
    out = out.astype(np.float64).reshape(k, bg.shape[0], -1)
    return masks, out.mean(axis=1)


def exact_shapley(v):
    """v: float64 [2^M] value per coalition (bit j = feature j). Returns phi [M]."""
    k = v.shape[0]
    m = k.bit_length() - 1
    w = shapley_weights(m)
    sizes = [bin(s).count("1") for s in range(k)]
    phi = [0.0] * m
    for i in range(m):
        bit = 1 << i
        acc = 0.0
        for s in range(k):
            if s & bit:
                continue
            acc += w[sizes[s]] * (v[s | bit] - v[s])
        phi[i] = acc
    return phi


def logit(p):
    return np.log(p / (1.0 - p))


# ----------------------------------------------------------------------------- fixtures

def main():
    rng = np.random.default_rng(SEED)
    written = []

    # 1. linear.onnx: y = x @ w + c -------------------------------------------------
    w_lin = f32(rng.normal(size=(8, 1)))
    c_lin = F32(0.3)
    offs = f32(rng.normal(scale=0.8, size=8))
    lin_x = f32(rng.normal(size=(4, 8)) + offs)
    lin_bg = f32(rng.normal(size=(20, 8)) + offs)
    save_model("linear.onnx", linear_model(
        "linear", w_lin, c_lin, "N", "y = x @ w + c, x: [N,8], y: [N,1]"))
    save_json("linear.json", {"w": [float(v) for v in w_lin[:, 0]], "c": float(c_lin)})
    save_npy("linear_x.npy", lin_x)
    save_npy("linear_bg.npy", lin_bg)
    written += ["linear.onnx", "linear.json", "linear_x.npy", "linear_bg.npy"]

    # 2. linear_fixed.onnx: same weights, fixed input shape [1,8] ----------------------
    save_model("linear_fixed.onnx", linear_model(
        "linear_fixed", w_lin, c_lin, 1, "y = x @ w + c, fixed shapes x: [1,8], y: [1,1]"))
    written.append("linear_fixed.onnx")

    # 3. logistic.onnx: p = sigmoid(x @ w + c) ----------------------------------------
    w_log = f32(rng.normal(scale=0.5, size=(6, 1)))
    c_log = F32(-0.2)
    log_x = f32(rng.normal(size=(2, 6)) + 0.5)
    log_bg1 = f32(rng.normal(size=(1, 6)) - 0.25)
    nodes = [
        helper.make_node("MatMul", ["x", "w"], ["xw"]),
        helper.make_node("Add", ["xw", "c"], ["z"]),
        helper.make_node("Sigmoid", ["z"], ["p"]),
    ]
    save_model("logistic.onnx", make_model(
        "logistic", nodes, [vinfo("x", ["N", 6])], [vinfo("p", ["N", 1])],
        [init("w", w_log), init("c", [c_log])],
        "p = sigmoid(x @ w + c), x: [N,6], p: [N,1]"))
    save_json("logistic.json", {"w": [float(v) for v in w_log[:, 0]], "c": float(c_log)})
    save_npy("logistic_x.npy", log_x)
    save_npy("logistic_bg1.npy", log_bg1)
    written += ["logistic.onnx", "logistic.json", "logistic_x.npy", "logistic_bg1.npy"]

    # 4. mlp.onnx: Gemm(16) -> Relu -> Gemm(3) -> Softmax ------------------------------
    w1 = f32(rng.normal(scale=0.35, size=(10, 16)))
    b1 = f32(rng.normal(scale=0.1, size=16))
    w2 = f32(rng.normal(scale=0.3, size=(16, 3)))
    b2 = f32([0.1, -0.05, 0.0])
    mlp_offs = f32(rng.normal(scale=0.5, size=10))
    mlp_x = f32(rng.normal(size=(3, 10)) + mlp_offs)
    mlp_bg = f32(rng.normal(size=(16, 10)) + mlp_offs)
    nodes = [
        helper.make_node("Gemm", ["x", "w1", "b1"], ["h_pre"]),
        helper.make_node("Relu", ["h_pre"], ["h"]),
        helper.make_node("Gemm", ["h", "w2", "b2"], ["logits"]),
        helper.make_node("Softmax", ["logits"], ["probs"], axis=1),
    ]
    save_model("mlp.onnx", make_model(
        "mlp", nodes, [vinfo("x", ["N", 10])], [vinfo("probs", ["N", 3])],
        [init("w1", w1), init("b1", b1), init("w2", w2), init("b2", b2)],
        "probs = softmax(relu(x @ w1 + b1) @ w2 + b2), x: [N,10], probs: [N,3]"))
    save_npy("mlp_x.npy", mlp_x)
    save_npy("mlp_bg.npy", mlp_bg)
    written += ["mlp.onnx", "mlp_x.npy", "mlp_bg.npy"]

    # Exact Shapley values by enumerating all 2^10 coalitions.
    sess = session("mlp.onnx")
    explanations = []
    cases = [(r, t, "identity") for r in range(3) for t in range(3)] + [(0, 1, "logit")]
    cache = {}
    for r, t, link in cases:
        if r not in cache:
            cache[r] = coalition_values(sess, mlp_x[r], mlp_bg)[1]
        v = cache[r][:, t]
        if link == "logit":
            v = logit(v)
        phi = exact_shapley(v)
        base, pred = float(v[0]), float(v[-1])
        assert abs(sum(phi) - (pred - base)) < 1e-9, (r, t, link, sum(phi), pred - base)
        explanations.append({
            "row": r, "target": t, "link": link,
            "values": [float(p) for p in phi],
            "base_value": base, "prediction": pred,
        })
    save_json("mlp_expected.json", {
        "model": "mlp.onnx", "input": "mlp_x.npy", "background": "mlp_bg.npy",
        "explanations": explanations,
    })
    written.append("mlp_expected.json")

    # 5. nan.onnx: y = Log(ReduceSum(x, axes=[1], keepdims=1)) --------------------------
    nodes = [
        helper.make_node("ReduceSum", ["x", "axes"], ["s"], keepdims=1),
        helper.make_node("Log", ["s"], ["y"]),
    ]
    save_model("nan.onnx", make_model(
        "nan", nodes, [vinfo("x", ["N", 4])], [vinfo("y", ["N", 1])],
        [init("axes", [1], dtype=np.int64)],
        "y = log(sum(x, axis=1)); NaN for rows with a negative sum, -inf for a zero sum"))
    nan_x = f32([[0.5, -2.0, 0.25, -1.0]])
    save_npy("nan_x.npy", nan_x)
    written += ["nan.onnx", "nan_x.npy"]

    # 6. wide.onnx: like linear with 24 inputs -----------------------------------------
    w_wide = f32(rng.normal(size=(24, 1)))
    c_wide = F32(-0.1)
    wide_x = f32(rng.normal(size=(1, 24)) + 0.2)
    save_model("wide.onnx", linear_model(
        "wide", w_wide, c_wide, "N", "y = x @ w + c, x: [N,24], y: [N,1]"))
    save_npy("wide_x.npy", wide_x)
    written += ["wide.onnx", "wide_x.npy"]

    # 7. linear_image.onnx: linear in pixels, x: [N,3,8,6] (H=8, W=6) -> y: [N,1] ------
    # A separate generator so that the fixtures above keep their values.
    rng2 = np.random.default_rng(SEED + 1)
    w_img = f32(rng2.normal(size=(3 * 8 * 6, 1)))
    c_img = F32(0.05)
    img_nodes = [
        helper.make_node("Flatten", ["image"], ["flat"], axis=1),
        helper.make_node("MatMul", ["flat", "w"], ["xw"]),
        helper.make_node("Add", ["xw", "c"], ["y"]),
    ]
    save_model("linear_image.onnx", make_model(
        "linear_image", img_nodes, [vinfo("image", ["N", 3, 8, 6])], [vinfo("y", ["N", 1])],
        [init("w", w_img), init("c", np.array([c_img], dtype=F32))],
        "y = flatten(image) @ w + c, image: [N,3,8,6] NCHW, y: [N,1]"))
    save_json("linear_image.json", {"w_nchw": [float(v) for v in w_img[:, 0]], "c": float(c_img)})
    pixels = rng2.integers(0, 256, size=(8, 6, 3), dtype=np.uint8)
    write_png(path("linear_image.png"), pixels)
    written += ["linear_image.onnx", "linear_image.json", "linear_image.png"]

    # 8. linear_audio.onnx: linear in samples, x: [N,64] -> y: [N,1] --------------------
    w_aud = f32(rng2.normal(size=(64, 1)))
    c_aud = F32(-0.02)
    save_model("linear_audio.onnx", linear_model(
        "linear_audio", w_aud, c_aud, "N", "y = x @ w + c, x: [N,64] audio samples, y: [N,1]"))
    save_json("linear_audio.json", {"w": [float(v) for v in w_aud[:, 0]], "c": float(c_aud)})
    t = np.arange(200)
    clip = (0.5 * np.sin(2 * np.pi * 440 * t / 16000) * 32767).astype(np.int16)
    write_wav(path("linear_audio.wav"), clip[:64], 16000)      # one window
    write_wav(path("linear_audio_long.wav"), clip, 16000)      # three windows (200 // 64)
    write_wav(path("linear_audio_8k.wav"), clip[:64], 8000)    # wrong rate
    write_wav(path("linear_audio_short.wav"), clip[:40], 16000)  # shorter than a window
    written += ["linear_audio.onnx", "linear_audio.json", "linear_audio.wav", "linear_audio_long.wav",
                "linear_audio_8k.wav", "linear_audio_short.wav"]

    # 9. mean_image.onnx: y = mean of a [N,3,H,W] image with symbolic H and W ----------
    save_model("mean_image.onnx", make_model(
        "mean_image",
        [helper.make_node("ReduceMean", ["image"], ["m"], axes=[1, 2, 3], keepdims=0),
         helper.make_node("Unsqueeze", ["m", "one"], ["y"])],
        [vinfo("image", ["N", 3, "H", "W"])], [vinfo("y", ["N", 1])],
        [init("one", np.array([1], dtype=np.int64), dtype=np.int64)],
        "y = mean(image), image: [N,3,H,W] with symbolic H, W; y: [N,1]"))
    written += ["mean_image.onnx"]

    # ----------------------------------------------------------------------- checks
    y = run(session("linear.onnx"), lin_x)
    assert y.shape == (4, 1)
    np.testing.assert_allclose(y[:, 0], lin_x.astype(np.float64) @ w_lin[:, 0] + c_lin, rtol=1e-5, atol=1e-5)
    y = run(session("linear_fixed.onnx"), lin_x[:1])
    assert y.shape == (1, 1)
    np.testing.assert_allclose(y[0, 0], lin_x[0].astype(np.float64) @ w_lin[:, 0] + c_lin, rtol=1e-5, atol=1e-5)
    p = run(session("logistic.onnx"), log_x)
    assert p.shape == (2, 1)
    z = log_x.astype(np.float64) @ w_log[:, 0] + c_log
    np.testing.assert_allclose(p[:, 0], 1 / (1 + np.exp(-z)), rtol=1e-5, atol=1e-6)
    probs = run(sess, np.concatenate([mlp_x, mlp_bg]))
    assert probs.shape == (19, 3)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-5)
    y = run(session("nan.onnx"), np.concatenate([nan_x, np.zeros((1, 4)), np.ones((1, 4))]))
    assert y.shape == (3, 1) and np.isnan(y[0, 0]) and np.isneginf(y[1, 0]), y
    np.testing.assert_allclose(y[2, 0], math.log(4.0), rtol=1e-6)
    y = run(session("wide.onnx"), wide_x)
    assert y.shape == (1, 1)
    np.testing.assert_allclose(y[0, 0], wide_x[0].astype(np.float64) @ w_wide[:, 0] + c_wide, rtol=1e-5, atol=1e-5)

    print("mlp probabilities (x rows then background rows):")
    print(np.array2string(probs, precision=3, suppress_small=True))
    print(f"mlp probability range: {probs.min():.3f} .. {probs.max():.3f}")
    total = 0
    for name in written:
        size = os.path.getsize(path(name))
        total += size
        print(f"  {name:22s} {size:6d} bytes")
    print(f"total {total} bytes")
    assert total < 60_000, total
    return 0


if __name__ == "__main__":
    sys.exit(main())
