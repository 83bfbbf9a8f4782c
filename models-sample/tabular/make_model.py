#!/usr/bin/env python3
"""Train a small MLP on scikit-learn's bundled Wine data set and export it to ONNX by hand.

Run from the repository root:

    /work/venv/bin/python models-sample/tabular/make_model.py

Deterministic: stratified split with random_state=0, MLPClassifier(random_state=0),
background rows drawn with numpy default_rng(0). No network access is needed: the data
ship inside the scikit-learn wheel (sklearn/datasets/data/wine_data.csv).

The exported graph takes the raw (unstandardised) 13 features; standardisation is part of
the graph:  features -> Sub(mean) -> Div(std) -> Gemm(W1,b1) -> Relu -> Gemm(W2,b2)
            -> Softmax(axis=1) -> probabilities
"""

import csv
import json
import os
import sys

import numpy as np
import onnx
import onnxruntime as ort
import sklearn
from onnx import TensorProto, helper, numpy_helper
from sklearn.datasets import load_wine
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.preprocessing import StandardScaler

OUT_DIR = os.path.dirname(os.path.abspath(__file__))
OPSET = 17
IR_VERSION = 8
PRODUCER = "explain-models-sample"
F32 = np.float32


def path(name):
    return os.path.join(OUT_DIR, name)


def init(name, arr):
    return numpy_helper.from_array(np.ascontiguousarray(np.asarray(arr, dtype=F32)), name=name)


def f32_str(v):
    # Shortest decimal string that round-trips the float32 value.
    return str(F32(v))


def write_csv(name, header, rows):
    with open(path(name), "w", encoding="utf-8", newline="") as fh:
        wr = csv.writer(fh, lineterminator="\n")
        wr.writerow(header)
        for row in rows:
            wr.writerow([f32_str(v) for v in row])


def main():
    data = load_wine()
    X, y = data.data, data.target
    feature_names = list(data.feature_names)
    class_names = [str(c) for c in data.target_names]
    assert X.shape == (178, 13) and len(class_names) == 3

    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.3, stratify=y, random_state=0)

    scaler = StandardScaler().fit(X_train)
    clf = MLPClassifier(hidden_layer_sizes=(16,), max_iter=2000, random_state=0)
    clf.fit(scaler.transform(X_train), y_train)
    assert clf.out_activation_ == "softmax"
    train_acc = clf.score(scaler.transform(X_train), y_train)
    test_acc = clf.score(scaler.transform(X_test), y_test)

    # ---------------------------------------------------------------- ONNX export
    mean = scaler.mean_.astype(F32)
    std = scaler.scale_.astype(F32)
    w1, w2 = clf.coefs_
    b1, b2 = clf.intercepts_
    assert w1.shape == (13, 16) and w2.shape == (16, 3)

    nodes = [
        helper.make_node("Sub", ["features", "mean"], ["centered"]),
        helper.make_node("Div", ["centered", "std"], ["standardized"]),
        helper.make_node("Gemm", ["standardized", "W1", "b1"], ["hidden_pre"]),
        helper.make_node("Relu", ["hidden_pre"], ["hidden"]),
        helper.make_node("Gemm", ["hidden", "W2", "b2"], ["logits"]),
        helper.make_node("Softmax", ["logits"], ["probabilities"], axis=1),
    ]
    graph = helper.make_graph(
        nodes,
        "wine_mlp",
        [helper.make_tensor_value_info("features", TensorProto.FLOAT, ["N", 13])],
        [helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["N", 3])],
        initializer=[init("mean", mean), init("std", std), init("W1", w1), init("b1", b1),
                     init("W2", w2), init("b2", b2)],
    )
    doc = (
        "Wine cultivar classifier (UCI Wine data as bundled in scikit-learn). "
        "Input 'features' [N,13]: raw feature values in the order of feature_names "
        "(standardisation is inside the graph). Output 'probabilities' [N,3]: softmax "
        "probabilities of class_0, class_1, class_2 (three grape cultivars). "
        f"MLPClassifier(hidden_layer_sizes=(16,), max_iter=2000, random_state=0), "
        f"test accuracy {test_acc:.4f}."
    )
    model = helper.make_model(
        graph,
        producer_name=PRODUCER,
        opset_imports=[helper.make_opsetid("", OPSET)],
        doc_string=doc,
    )
    model.ir_version = IR_VERSION
    helper.set_model_props(model, {
        "feature_names": json.dumps(feature_names),
        "class_names": json.dumps(class_names),
        "input_preprocessing": "none (standardisation with the training-set mean/std is inside the graph)",
        "dataset": "UCI Wine (Forina et al.), as bundled in scikit-learn (load_wine)",
        "training": "MLPClassifier(hidden_layer_sizes=(16,), max_iter=2000, random_state=0) "
                    "on StandardScaler features; stratified 70/30 split, random_state=0",
        "test_accuracy": f"{test_acc:.4f}",
    })
    onnx.checker.check_model(model, full_check=True)
    onnx.save_model(model, path("wine_mlp.onnx"))

    # ---------------------------------------------------------------- verification
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    sess = ort.InferenceSession(path("wine_mlp.onnx"), sess_options=so,
                                providers=["CPUExecutionProvider"])
    X_all32 = X.astype(F32)
    ort_p = sess.run(None, {"features": X_all32})[0]
    skl_p = clf.predict_proba(scaler.transform(X))
    max_diff = float(np.abs(ort_p.astype(np.float64) - skl_p).max())
    assert max_diff < 1e-5, max_diff
    ort_test_p = sess.run(None, {"features": X_test.astype(F32)})[0]
    ort_test_acc = float((ort_test_p.argmax(axis=1) == y_test).mean())
    assert ort_test_acc == test_acc, (ort_test_acc, test_acc)

    # ---------------------------------------------------------------- data files
    rng = np.random.default_rng(0)
    bg_idx = rng.choice(len(X_train), size=20, replace=False)
    background = np.ascontiguousarray(X_train[bg_idx].astype(F32))
    sample_idx = [int(np.flatnonzero(y_test == c)[0]) for c in range(3)]
    samples = np.ascontiguousarray(X_test[sample_idx].astype(F32))
    np.save(path("background.npy"), background, allow_pickle=False)
    np.save(path("samples.npy"), samples, allow_pickle=False)
    write_csv("background.csv", feature_names, background)
    write_csv("samples.csv", feature_names, samples)

    # CSV values must round-trip exactly to the float32 arrays.
    for name, arr in [("background.csv", background), ("samples.csv", samples)]:
        with open(path(name), encoding="utf-8") as fh:
            rows = list(csv.reader(fh))
        assert rows[0] == feature_names
        back = np.array([[F32(v) for v in r] for r in rows[1:]], dtype=F32)
        assert np.array_equal(back, arr), name

    sp = sess.run(None, {"features": samples})[0]
    print(f"scikit-learn {sklearn.__version__}, onnx {onnx.__version__}, onnxruntime {ort.__version__}")
    print(f"train accuracy {train_acc:.4f}, test accuracy {test_acc:.4f} "
          f"({int(round(test_acc * len(y_test)))}/{len(y_test)})")
    print(f"max |onnxruntime - predict_proba| over all 178 rows: {max_diff:.2e}")
    print(f"sample test rows {sample_idx} (classes 0,1,2), probabilities:")
    print(np.array2string(sp, precision=4, suppress_small=True))
    print(f"background training rows: {bg_idx.tolist()}")
    for name in ["wine_mlp.onnx", "background.npy", "samples.npy", "background.csv", "samples.csv"]:
        print(f"  {name:16s} {os.path.getsize(path(name)):6d} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
