"""Makes a chain-of-MatMuls ONNX model with random float32 weights, for the load/save benchmark.

usage: /usr/bin/python3 make_model.py OUT.onnx MEGABYTES [--external]
"""
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

out, megabytes = sys.argv[1], int(sys.argv[2])
external = "--external" in sys.argv[3:]
n = 2048  # each weight is n*n float32 = 16 MiB
count = max(1, round(megabytes * 2**20 / (n * n * 4)))
rng = np.random.default_rng(0)
inits, nodes = [], []
prev = "x"
for i in range(count):
    w = rng.standard_normal((n, n), dtype=np.float32) * np.float32(1 / np.sqrt(n))
    inits.append(numpy_helper.from_array(w, f"w{i}"))
    nodes.append(helper.make_node("MatMul", [prev, f"w{i}"], [f"h{i}"], name=f"matmul{i}"))
    prev = f"h{i}"
graph = helper.make_graph(
    nodes, "chain",
    [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", n])],
    [helper.make_tensor_value_info(prev, TensorProto.FLOAT, ["N", n])],
    inits,
)
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
model.ir_version = 8
if external:
    onnx.save(model, out, save_as_external_data=True, all_tensors_to_one_file=True,
              location=out.split("/")[-1] + ".data", size_threshold=1024)
else:
    onnx.save(model, out)
print(f"{out}: {count} weights of {n}x{n}")
