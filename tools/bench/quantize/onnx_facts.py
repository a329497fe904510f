"""Facts about ONNX files for tools/bench/quantize, from ONNX's own Python package (Debian python3-onnx):

    /usr/bin/python3 tools/bench/quantize/onnx_facts.py --check A.onnx B.onnx --unfused OPT1.onnx OPT2.onnx

--check: onnx.checker.check_model(full_check=True) on each file: "ok" or the checker's first line.
--unfused: for each of ONNX Runtime's optimized graphs (session option optimizedModelFilePath), the
DequantizeLinear nodes whose output still feeds a Conv, MatMul or Gemm (a QDQ group ORT did not fuse
into an integer kernel), with the float compute nodes left and the integer/fused kernels it chose.
Prints one JSON object {"check": {file: "ok"|message}, "unfused": {file: {...}}}.
"""
import collections
import json
import sys

import onnx

FLOAT_COMPUTE = {"Conv", "MatMul", "Gemm", "FusedConv", "FusedMatMul", "FusedGemm"}


def check(path):
    try:
        onnx.checker.check_model(onnx.load(path), full_check=True)
        return "ok"
    except Exception as error:  # the checker's message is the fact we report
        return str(error).strip().splitlines()[0][:300]


def unfused(path):
    graph = onnx.load(path, load_external_data=False).graph
    consumers = collections.defaultdict(list)
    for node in graph.node:
        for name in node.input:
            consumers[name].append(node)
    left = []
    for node in graph.node:
        if node.op_type != "DequantizeLinear":
            continue
        for consumer in consumers[node.output[0]]:
            if consumer.op_type in FLOAT_COMPUTE:
                left.append(f"{consumer.op_type} {consumer.name or consumer.output[0]}")
    ops = collections.Counter(
        (f"{n.domain}." if n.domain not in ("", "ai.onnx") else "") + n.op_type for n in graph.node)
    return {
        "dequantize_feeding_compute": len(left),
        "examples": left[:5],
        "float_compute_nodes": sum(v for k, v in ops.items() if k.split(".")[-1] in FLOAT_COMPUTE),
        "quantize_linear": ops.get("QuantizeLinear", 0),
        "dequantize_linear": ops.get("DequantizeLinear", 0),
        "ops": dict(sorted(ops.items())),
    }


def main(argv):
    mode, files = None, {"--check": [], "--unfused": []}
    for arg in argv:
        if arg in files:
            mode = arg
        elif mode is None:
            sys.exit(f"onnx_facts: '{arg}' before --check/--unfused")
        else:
            files[mode].append(arg)
    print(json.dumps({
        "check": {f: check(f) for f in files["--check"]},
        "unfused": {f: unfused(f) for f in files["--unfused"]},
    }))


if __name__ == "__main__":
    main(sys.argv[1:])
