#!/usr/bin/env python3
"""Generate the synthetic detector and recogniser fixtures (closed-form answers known).

Run from the repository root:

    /work/venv/bin/python tests/data/make_detectors.py

Deterministic (numpy.random.default_rng(20261203), drawn in a fixed order). Models: opset 17,
ir_version 8, float32, batch axis "N", producer "explain-fixtures".

* det_boxes.onnx: x [N,1,8,8] -> boxes [N,2,4], scores [N,2,1]. Box 0 is the fixed square
  [0,0,4,4], box 1 is [4,4,8,8]; the score of box j is sum_p w_p x_p over the pixels p inside
  box j (weights w > 0). The two boxes do not overlap, so the D-RISE value of target box 0
  is exactly its score: a linear function of the 16 pixels inside it, and its Shapley values
  with a zero baseline are w_p x_p summed per feature.
* det_yolo.onnx: the same function in YOLO rows [N,2,5] = (cx, cy, w, h, score).
* det_yolo_t.onnx: the same rows transposed, [N,5,2] (YOLOv8 layout).
* det_weights.json: {"w": 64 floats (row-major 8x8, zero outside both boxes)}.
* det_image.png: an 8x8 gray image (values drawn uniformly, 40..255).
* embed.onnx: x [N,4] -> e [N,3] = x @ A (a recogniser's embedding); embed.json holds A;
  embed_x.npy [2,4] inputs, embed_ref.npy [1,4] the reference.
"""

import json
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
from PIL import Image

OUT = os.path.dirname(os.path.abspath(__file__))
F32 = np.float32


def init(name, arr):
    return numpy_helper.from_array(np.ascontiguousarray(np.asarray(arr, dtype=F32)), name=name)


def save(name, nodes, inputs, outputs, inits):
    graph = helper.make_graph(nodes, name.split(".")[0], inputs, outputs, inits)
    model = helper.make_model(graph, producer_name="explain-fixtures",
                              opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    with open(os.path.join(OUT, name), "wb") as fh:
        fh.write(model.SerializeToString())


def main():
    rng = np.random.default_rng(20261203)
    boxes = np.array([[0, 0, 4, 4], [4, 4, 8, 8]], dtype=F32)
    w = np.zeros((8, 8), dtype=F32)
    wscore = np.zeros((64, 2), dtype=F32)
    for j, (x0, y0, x1, y1) in enumerate(boxes.astype(int)):
        vals = rng.uniform(0.01, 0.06, size=(y1 - y0, x1 - x0)).astype(F32)
        w[y0:y1, x0:x1] = vals
        m = np.zeros((8, 8), dtype=F32)
        m[y0:y1, x0:x1] = vals
        wscore[:, j] = m.reshape(64)
    img = rng.integers(40, 256, size=(8, 8)).astype(np.uint8)
    Image.fromarray(img, mode="L").save(os.path.join(OUT, "det_image.png"))
    with open(os.path.join(OUT, "det_weights.json"), "w") as fh:
        json.dump({"w": [float(v) for v in w.reshape(64)]}, fh, indent=1)
        fh.write("\n")

    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 1, 8, 8])
    flat = helper.make_node("Flatten", ["x"], ["flat"], axis=1)
    # boxes: flat @ 0 + const, so that they have the batch axis.
    save("det_boxes.onnx", [
        flat,
        helper.make_node("MatMul", ["flat", "zeros8"], ["z8"]),
        helper.make_node("Add", ["z8", "boxes_c"], ["b8"]),
        helper.make_node("Reshape", ["b8", "shape_b"], ["boxes"]),
        helper.make_node("MatMul", ["flat", "wscore"], ["s2"]),
        helper.make_node("Reshape", ["s2", "shape_s"], ["scores"]),
    ], [x], [
        helper.make_tensor_value_info("boxes", TensorProto.FLOAT, ["N", 2, 4]),
        helper.make_tensor_value_info("scores", TensorProto.FLOAT, ["N", 2, 1]),
    ], [
        init("zeros8", np.zeros((64, 8))), init("boxes_c", boxes.reshape(8)),
        init("wscore", wscore),
        numpy_helper.from_array(np.array([-1, 2, 4], dtype=np.int64), "shape_b"),
        numpy_helper.from_array(np.array([-1, 2, 1], dtype=np.int64), "shape_s"),
    ])
    # YOLO rows: (cx, cy, w, h, score) per box.
    wy = np.zeros((64, 10), dtype=F32)
    cy = np.zeros(10, dtype=F32)
    for j, (x0, y0, x1, y1) in enumerate(boxes):
        cy[5 * j:5 * j + 4] = [(x0 + x1) / 2, (y0 + y1) / 2, x1 - x0, y1 - y0]
        wy[:, 5 * j + 4] = wscore[:, j]
    rows = [
        flat,
        helper.make_node("MatMul", ["flat", "wy"], ["r"]),
        helper.make_node("Add", ["r", "cy"], ["r2"]),
        helper.make_node("Reshape", ["r2", "shape_r"], ["rows"]),
    ]
    inits = [init("wy", wy), init("cy", cy),
             numpy_helper.from_array(np.array([-1, 2, 5], dtype=np.int64), "shape_r")]
    save("det_yolo.onnx", rows, [x],
         [helper.make_tensor_value_info("rows", TensorProto.FLOAT, ["N", 2, 5])], inits)
    save("det_yolo_t.onnx", rows[:3] + [
        helper.make_node("Reshape", ["r2", "shape_r"], ["rows0"]),
        helper.make_node("Transpose", ["rows0"], ["rows"], perm=[0, 2, 1]),
    ], [x], [helper.make_tensor_value_info("rows", TensorProto.FLOAT, ["N", 5, 2])], inits)

    # Recogniser: a linear embedding.
    a = rng.normal(size=(4, 3)).astype(F32)
    save("embed.onnx", [helper.make_node("MatMul", ["x", "a"], ["e"])],
         [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 4])],
         [helper.make_tensor_value_info("e", TensorProto.FLOAT, ["N", 3])], [init("a", a)])
    with open(os.path.join(OUT, "embed.json"), "w") as fh:
        json.dump({"a": [[float(v) for v in r] for r in a]}, fh, indent=1)
        fh.write("\n")
    np.save(os.path.join(OUT, "embed_x.npy"), rng.normal(size=(2, 4)).astype(F32))
    np.save(os.path.join(OUT, "embed_ref.npy"), rng.normal(size=(1, 4)).astype(F32))


if __name__ == "__main__":
    main()
