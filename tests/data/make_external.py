"""Writes tests/data/external/: linear.onnx with its weights kept outside the model file.

`linear_ext.onnx` is tests/data/linear.onnx with every initializer moved to
`linear_ext.weights` (ONNX external data, one file, offsets aligned by onnx), as exporters of
large models write them. Run from the repository root with onnx from PyPI:

    python3 -m venv .venv-fixtures && .venv-fixtures/bin/pip install onnx==1.17.0
    .venv-fixtures/bin/python tests/data/make_external.py
"""

import pathlib

import onnx
from onnx.external_data_helper import convert_model_to_external_data

root = pathlib.Path(__file__).parent
out = root / "external"
out.mkdir(exist_ok=True)
model = onnx.load(str(root / "linear.onnx"))
convert_model_to_external_data(
    model, all_tensors_to_one_file=True, location="linear_ext.weights", size_threshold=0
)
onnx.save_model(model, str(out / "linear_ext.onnx"))
print("wrote", out / "linear_ext.onnx", "and", out / "linear_ext.weights")

# A model whose declared input is far larger than any machine's memory: [1, 3, 100000, 100000]
# float32 (120 GB a row). explain must refuse it before allocating anything.
from onnx import TensorProto, helper

x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 100000, 100000])
y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 1])
node = helper.make_node("ReduceMean", ["x"], ["y"], axes=[1, 2, 3], keepdims=0)
graph = helper.make_graph([node], "huge", [x], [y])
huge = helper.make_model(graph, producer_name="explain-fixtures", opset_imports=[helper.make_opsetid("", 13)])
huge.ir_version = 8
onnx.save_model(huge, str(out / "huge_input.onnx"))
print("wrote", out / "huge_input.onnx")
