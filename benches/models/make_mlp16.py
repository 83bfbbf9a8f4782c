#!/usr/bin/env python3
"""A 16-feature tabular MLP for the benchmarks, trained on scikit-learn's bundled Breast
Cancer Wisconsin (Diagnostic) data and exported to ONNX by hand.

Run from the repository root (deterministic, no network: the data ship inside the
scikit-learn wheel):

    /work/venv/bin/python benches/models/make_mlp16.py

Writes, beside this script:
  mlp16.onnx   features [N,16] (raw values; standardisation inside the graph)
                      -> probabilities [N,2] (malignant, benign)
  mlp16_x.npy        8 test rows to explain, float32 [8,16]
  mlp16_bg.npy       20 training rows as the background, float32 [20,16]

The 16 features are the data set's first 16 columns (the ten "mean" measurements and the
first six "standard error" ones). Hidden layer of 32 ReLU units: the "small tabular-size MLP
(16 features, 20 background rows)" of the speed targets.
"""

import json
import os

import numpy as np
import onnx
import onnxruntime as ort
import sklearn
from onnx import TensorProto, helper, numpy_helper
from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.preprocessing import StandardScaler

OUT = os.path.dirname(os.path.abspath(__file__))
F32 = np.float32
M = 16


def init(name, arr):
    return numpy_helper.from_array(np.ascontiguousarray(np.asarray(arr, dtype=F32)), name=name)


def main():
    data = load_breast_cancer()
    X, y = data.data[:, :M], data.target
    names = [str(n) for n in data.feature_names[:M]]
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.3, stratify=y, random_state=0)
    scaler = StandardScaler().fit(X_train)
    clf = MLPClassifier(hidden_layer_sizes=(32,), max_iter=3000, random_state=0)
    clf.fit(scaler.transform(X_train), y_train)
    test_acc = clf.score(scaler.transform(X_test), y_test)
    # Binary MLPClassifier has one logistic output unit; export both class probabilities.
    w1, w2 = clf.coefs_
    b1, b2 = clf.intercepts_
    assert w1.shape == (M, 32) and w2.shape == (32, 1)
    w2_two = np.concatenate([-w2, w2], axis=1) / 2.0  # softmax([-z/2, z/2]) = [1-σ(z), σ(z)]
    b2_two = np.concatenate([-b2, b2]) / 2.0
    nodes = [
        helper.make_node("Sub", ["features", "mean"], ["centered"]),
        helper.make_node("Div", ["centered", "std"], ["standardized"]),
        helper.make_node("Gemm", ["standardized", "W1", "b1"], ["hidden_pre"]),
        helper.make_node("Relu", ["hidden_pre"], ["hidden"]),
        helper.make_node("Gemm", ["hidden", "W2", "b2"], ["logits"]),
        helper.make_node("Softmax", ["logits"], ["probabilities"], axis=1),
    ]
    graph = helper.make_graph(
        nodes, "mlp16",
        [helper.make_tensor_value_info("features", TensorProto.FLOAT, ["N", M])],
        [helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["N", 2])],
        initializer=[init("mean", scaler.mean_), init("std", scaler.scale_), init("W1", w1),
                     init("b1", b1), init("W2", w2_two), init("b2", b2_two)],
    )
    model = helper.make_model(
        graph, producer_name="explain-benches", opset_imports=[helper.make_opsetid("", 17)],
        doc_string=("Breast Cancer Wisconsin (Diagnostic), first 16 features, MLPClassifier"
                    f"(hidden_layer_sizes=(32,), random_state=0); test accuracy {test_acc:.4f}. "
                    "Output: [P(malignant), P(benign)]."))
    model.ir_version = 8
    helper.set_model_props(model, {"feature_names": json.dumps(names),
                                   "class_names": json.dumps(["malignant", "benign"]),
                                   "scikit_learn": sklearn.__version__})
    onnx.checker.check_model(model)
    onnx.save(model, os.path.join(OUT, "mlp16.onnx"))

    rng = np.random.default_rng(0)
    bg = X_train[rng.choice(len(X_train), 20, replace=False)].astype(F32)
    x = X_test[:8].astype(F32)
    np.save(os.path.join(OUT, "mlp16_bg.npy"), bg)
    np.save(os.path.join(OUT, "mlp16_x.npy"), x)

    # The exported graph reproduces scikit-learn's probabilities.
    sess = ort.InferenceSession(os.path.join(OUT, "mlp16.onnx"),
                                providers=["CPUExecutionProvider"])
    got = sess.run(None, {"features": x})[0]
    want = clf.predict_proba(scaler.transform(x.astype(np.float64)))
    assert np.abs(got - want).max() < 1e-5, np.abs(got - want).max()
    print(f"test accuracy {test_acc:.4f}; max |onnx - sklearn| {np.abs(got - want).max():.2e}")


if __name__ == "__main__":
    main()
