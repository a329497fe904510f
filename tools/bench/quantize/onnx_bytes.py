"""Where an ONNX file's bytes go, protobuf field by field (ONNX's own Python package reads the file):

    /usr/bin/python3 tools/bench/quantize/onnx_bytes.py [--json | --summary] [--reference FP32.onnx] A.onnx [B.onnx ...]

Every byte of the file is counted exactly once: each field's share is the size of its message minus
the size of the same message without that field (protobuf's own ByteSize), and each message inside a
repeated field also pays its tag and length (the "framing" rows). The rows add up to the file size
(checked). Initializers are grouped by how the graph reads them: the integers a DequantizeLinear
reads (by dtype), the scales and zero points of QuantizeLinear/DequantizeLinear (per tensor or per
axis), float constants the float ops read, and others (int64 shapes, …); nodes by op type, each split
into its name, the names of its inputs and outputs, attributes and framing.

It also prices ideas without applying them ("what if" rows): the zero-point inputs of
DequantizeLinear nodes whose zero point is an all-zero int8/int32 constant (an optional input whose
default is 0), and initializers that repeat another's dtype, dims and data.
--reference: also print each row as a fraction of that (fp32) file's size. --summary: the rows in nine
groups (int8 weights, int32 biases, scales and zero points, float constants, other initializer bytes,
value names in nodes, node names, op types/attributes/framing, graph inputs/outputs and model header).
"""
import collections
import json
import os
import sys

import onnx
from google.protobuf.internal.encoder import _VarintBytes
from onnx import numpy_helper

DQ, Q = "DequantizeLinear", "QuantizeLinear"


def varint_size(n):
    return len(_VarintBytes(n))


def framed(message, field_number):
    """Bytes a message costs inside a repeated field of its parent: tag, length, body."""
    size = message.ByteSize()
    return varint_size(field_number << 3) + varint_size(size) + size


def field_shares(message):
    """{field name: bytes} for a message's own fields (each: size with it − size without it)."""
    total = message.ByteSize()
    shares = {}
    for descriptor, _ in message.ListFields():
        copy = type(message)()
        copy.CopyFrom(message)
        copy.ClearField(descriptor.name)
        shares[descriptor.name] = total - copy.ByteSize()
    assert sum(shares.values()) == total, (type(message).__name__, shares, total)
    return shares


def tensor_role(name, readers, tensor):
    """What a graph does with an initializer, as a row label."""
    uses = readers.get(name, [])
    dtype = onnx.TensorProto.DataType.Name(tensor.data_type).lower()
    per_axis = len(tensor.dims) > 0 and int(numpy_helper.to_array(tensor).size) > 1
    roles = set()
    for node, index in uses:
        if node.op_type in (DQ, Q) and index == 1:
            roles.add(f"scales ({'per axis' if per_axis else 'per tensor'})")
        elif node.op_type in (DQ, Q) and index == 2:
            roles.add(f"zero points ({'per axis' if per_axis else 'per tensor'})")
        elif node.op_type == DQ and index == 0:
            roles.add(f"integers a DequantizeLinear reads ({dtype})")
        elif tensor.data_type in (onnx.TensorProto.FLOAT, onnx.TensorProto.FLOAT16):
            roles.add(f"float constants ({dtype})")
        else:
            roles.add(f"other constants ({dtype})")
    if not roles:
        roles.add(f"unread ({dtype})")
    return " + ".join(sorted(roles))


def breakdown(path):
    model = onnx.load(path, load_external_data=False)
    graph = model.graph
    size = os.path.getsize(path)
    rows = collections.Counter()  # (section, label) → bytes
    counts = collections.Counter()
    graph_field = model.DESCRIPTOR.fields_by_name["graph"].number

    for name, share in field_shares(model).items():
        if name != "graph":
            rows[("model", name)] += share
    graph_shares = field_shares(graph)
    # the graph message's own framing inside ModelProto
    rows[("model", "graph framing")] += varint_size(graph_field << 3) + varint_size(graph.ByteSize())
    for name, share in graph_shares.items():
        if name not in ("node", "initializer"):
            rows[("graph", name)] += share

    readers = collections.defaultdict(list)
    for node in graph.node:
        for index, value in enumerate(node.input):
            if value:
                readers[value].append((node, index))

    init_number = graph.DESCRIPTOR.fields_by_name["initializer"].number
    for tensor in graph.initializer:
        role = tensor_role(tensor.name, readers, tensor)
        counts[("initializer", role)] += 1
        shares = field_shares(tensor)
        framing = framed(tensor, init_number) - tensor.ByteSize()
        payload = sum(v for k, v in shares.items() if k in ("raw_data", "float_data", "int32_data", "int64_data", "double_data", "uint64_data", "string_data"))
        rows[("initializer", f"{role}: data")] += payload
        rows[("initializer", f"{role}: name")] += shares.get("name", 0)
        rows[("initializer", f"{role}: dims, dtype, framing")] += tensor.ByteSize() - payload - shares.get("name", 0) + framing

    node_number = graph.DESCRIPTOR.fields_by_name["node"].number
    for node in graph.node:
        op = (f"{node.domain}." if node.domain not in ("", "ai.onnx") else "") + node.op_type
        counts[("node", op)] += 1
        shares = field_shares(node)
        framing = framed(node, node_number) - node.ByteSize()
        for field, share in shares.items():
            label = {"input": "input names", "output": "output names", "name": "node name"}.get(field, field)
            if field == "attribute":
                for attribute in node.attribute:
                    rows[("node", f"{op}: attribute {attribute.name}")] += framed(attribute, node.DESCRIPTOR.fields_by_name["attribute"].number)
                continue
            rows[("node", f"{op}: {label}")] += share
        rows[("node", f"{op}: framing")] += framing

    total = sum(rows.values())
    assert total == size, (path, total, size)
    return model, size, rows, counts


def what_if(model):
    """Bytes that two ideas would save, priced on the file as it is."""
    graph = model.graph
    inits = {t.name: t for t in graph.initializer}
    readers = collections.Counter(v for n in graph.node for v in n.input if v)
    zero_point_refs = 0
    saved = 0
    freed = collections.Counter()
    for node in graph.node:
        if node.op_type != DQ or len(node.input) < 3 or node.input[2] not in inits:
            continue
        zp = inits[node.input[2]]
        if zp.data_type not in (onnx.TensorProto.INT8, onnx.TensorProto.INT32):
            continue
        if numpy_helper.to_array(zp).any():
            continue
        zero_point_refs += 1
        # the input name and its tag/length, plus the node's length varint (counted exactly below)
        copy = onnx.NodeProto()
        copy.CopyFrom(node)
        del copy.input[2]
        saved += framed(node, 1) - framed(copy, 1)
        freed[zp.name] += 1
    for name, dropped in freed.items():
        if readers[name] == dropped:
            saved += framed(inits[name], 5)
    groups = collections.defaultdict(list)
    for tensor in graph.initializer:
        groups[(tensor.data_type, tuple(tensor.dims), numpy_helper.to_array(tensor).tobytes())].append(tensor)
    duplicates = [g for g in groups.values() if len(g) > 1]
    duplicate_bytes = sum(framed(t, 5) for g in duplicates for t in g[1:])
    return {
        "int8/int32 DequantizeLinear zero points that are 0": {"inputs": zero_point_refs, "bytes": saved},
        "initializers repeating another's dtype, dims, data": {"tensors": sum(len(g) - 1 for g in duplicates), "bytes (before rewiring readers)": duplicate_bytes},
    }


SUMMARY_GROUPS = (
    ("int8 weights (data)", lambda s, w: s == "initializer" and w.startswith("integers a DequantizeLinear reads (int8): data")),
    ("int32 biases (data)", lambda s, w: s == "initializer" and w.startswith("integers a DequantizeLinear reads (int32): data")),
    ("scales and zero points", lambda s, w: s == "initializer" and (w.startswith("scales") or w.startswith("zero points"))),
    ("float constants", lambda s, w: s == "initializer" and w.startswith("float constants")),
    ("initializer names, dims, framing (weights, biases, others)", lambda s, w: s == "initializer"),
    ("value names nodes read and write", lambda s, w: s == "node" and (w.endswith(": input names") or w.endswith(": output names"))),
    ("node names", lambda s, w: s == "node" and w.endswith(": node name")),
    ("op types, attributes, node framing", lambda s, w: s == "node"),
    ("graph inputs/outputs, model header", lambda s, w: True),
)


def summarize(rows):
    """The rows in a few groups (first matching group wins), and the Q/DQ nodes' share of the node rows."""
    groups = collections.Counter()
    for row in rows:
        for label, matches in SUMMARY_GROUPS:
            if matches(row["section"], row["what"]):
                groups[label] += row["bytes"]
                break
    qdq = sum(r["bytes"] for r in rows if r["section"] == "node" and r["what"].split(":")[0] in (DQ, Q))
    return [(label, groups[label]) for label, _ in SUMMARY_GROUPS], qdq


def main(argv):
    as_json = "--json" in argv
    summary = "--summary" in argv
    argv = [a for a in argv if a not in ("--json", "--summary")]
    reference = None
    if "--reference" in argv:
        at = argv.index("--reference")
        if at + 1 >= len(argv):
            sys.exit("onnx_bytes: --reference needs a file")
        reference = os.path.getsize(argv[at + 1])
        del argv[at : at + 2]
    if not argv:
        sys.exit(__doc__)
    report = {}
    for path in argv:
        model, size, rows, counts = breakdown(path)
        report[path] = {
            "bytes": size,
            "rows": [{"section": s, "what": w, "bytes": b, **({"of_reference": b / reference} if reference else {})} for (s, w), b in sorted(rows.items(), key=lambda kv: -kv[1]) if b],
            "counts": {f"{s}: {w}": c for (s, w), c in sorted(counts.items())},
            "what_if": what_if(model),
        }
        groups, qdq = summarize(report[path]["rows"])
        report[path]["summary"] = {"groups": dict(groups), "quantize/dequantize nodes": qdq}
    if as_json:
        print(json.dumps(report, indent=1))
        return
    for path, entry in report.items():
        print(f"{path}: {entry['bytes']} bytes" + (f", {entry['bytes'] / reference:.4f}× reference" if reference else ""))
        if summary:
            for label, size in entry["summary"]["groups"].items():
                print(f"  {size:>8}" + (f"  {size / reference:.4f}×" if reference else "") + f"  {label}")
            qdq = entry["summary"]["quantize/dequantize nodes"]
            print(f"  (of the node rows: {qdq} bytes are QuantizeLinear/DequantizeLinear nodes)")
            continue
        for row in entry["rows"]:
            share = f"  {row['of_reference']:.4f}×" if reference else ""
            print(f"  {row['bytes']:>8}{share}  {row['section']}: {row['what']}")
        print("  counts: " + ", ".join(f"{k} ×{v}" for k, v in entry["counts"].items()))
        for idea, figures in entry["what_if"].items():
            print(f"  what if: {idea}: " + ", ".join(f"{k} {v}" for k, v in figures.items()))


if __name__ == "__main__":
    main(sys.argv[1:])
