"""The Python onnx side of the benchmark: load + save (or load only for inspect)."""
import sys

import onnx

mode, src = sys.argv[1], sys.argv[2]
model = onnx.load(src)
if mode == "convert":
    onnx.save(model, sys.argv[3])
else:
    print(len(model.graph.node), "nodes")
