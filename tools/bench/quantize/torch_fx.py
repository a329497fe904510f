"""The peer of tools/bench/quantize: PyTorch FX graph mode post-training int8 quantization (oneDNN).

Rebuilds a Fashion-MNIST fixture's architecture (the classes of tools/fixtures/make_models.py), loads
the ONNX fixture's own initializers (torch's state_dict names; a Linear that torch.onnx exported as
MatMul + Add gets its weight back from the transposed MatMul constant), checks that torch's fp32
accuracy on the 10k test images equals the fixture's info.json, then quantizes it the way a PyTorch
user would: torch.backends.quantized.engine = 'onednn',
prepare_fx(model, get_default_qconfig_mapping('onednn'), example) -> calibrate on the first N training
images (the samples modelpass's `dataset=fashion-mnist:train samples=N` reads) -> convert_fx.
It measures fp32 and int8 accuracy (10k test images), the size of torch.jit.save of each model, and
the latency of one batch (first B test images) on one thread, fp32 and int8 interleaved, median and minimum.
Prints one JSON object. Run with Debian's /usr/bin/python3 (torch 1.13, onnx):

    /usr/bin/python3 tools/bench/quantize/torch_fx.py fashion-resnet [--samples 512] [--batch 64] [--runs 50] [--warmup 5]
        [--calibration-offset K] [--accuracy-only] [--validation] [--dump-qparams FILE]

--calibration-offset K calibrates on training images [K, K+N) instead (calibration-subsets.mjs);
--accuracy-only skips sizes and latency; --validation adds the int8 model's per-image outcomes on
the validation split (training images 50,000-59,999); --dump-qparams writes every activation's
scale and zero point (and each quantized module's kind) as JSON, to compare with our --report.
"""
import argparse
import copy
import json
import os
import sys
import tempfile
import time
import warnings

import numpy as np
import onnx
from onnx import numpy_helper
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tools", "fixtures"))
import make_models  # noqa: E402  (the fixtures' architectures and IDX reader; main() is not run on import)


def traceable_attention_forward(self, x):
    """make_models.SelfAttention.forward with the same arithmetic, but without unpacking x.shape or
    chunk's result (torch.fx's symbolic tracer cannot iterate a Proxy)."""
    n, t, d = x.size(0), x.size(1), x.size(2)
    parts = self.qkv(x).chunk(3, dim=-1)
    q, k, v = parts[0], parts[1], parts[2]
    q = q.reshape(n, t, self.heads, self.head_dim).transpose(1, 2)
    k = k.reshape(n, t, self.heads, self.head_dim).transpose(1, 2)
    v = v.reshape(n, t, self.heads, self.head_dim).transpose(1, 2)
    scores = torch.matmul(q, k.transpose(-2, -1)) / (self.head_dim ** 0.5)
    y = torch.matmul(torch.softmax(scores, dim=-1), v)
    return self.proj(y.transpose(1, 2).reshape(n, t, d))


ARCHS = {
    "fashion-resnet": make_models.FashionResnet,
    "fashion-cnn": make_models.FashionCnn,
    "fashion-mlp": make_models.FashionMlp,
    "fashion-transformer": make_models.FashionTransformer,
}


def onnx_weights(path, module):
    """state_dict of `module` filled from the ONNX file's initializers."""
    graph = onnx.load(path).graph
    init = {t.name: numpy_helper.to_array(t) for t in graph.initializer}
    # torch.onnx deduplicates equal initializers and names the copies with Identity nodes (the two
    # BatchNorm biases that meet at a residual Add get equal gradients, so they stay equal).
    for node in graph.node:
        if node.op_type == "Identity" and node.input[0] in init:
            init[node.output[0]] = init[node.input[0]]
    producer = {o: n for n in graph.node for o in n.output}
    state = {}
    for name, tensor in module.state_dict().items():
        if name.endswith("num_batches_tracked"):
            state[name] = tensor
            continue
        if name in init:
            state[name] = torch.from_numpy(init[name].copy())
            continue
        # Linear on a 3-D input: exported as MatMul(x, W^T) followed by Add(., bias).
        prefix = name[: -len(".weight")] if name.endswith(".weight") else None
        found = None
        if prefix is not None:
            for node in graph.node:
                if node.op_type == "Add" and f"{prefix}.bias" in node.input:
                    other = [i for i in node.input if i != f"{prefix}.bias"][0]
                    matmul = producer.get(other)
                    if matmul is not None and matmul.op_type == "MatMul" and matmul.input[1] in init:
                        found = init[matmul.input[1]].T.copy()
        if found is None or tuple(found.shape) != tuple(tensor.shape):
            sys.exit(f"torch_fx: {path}: no initializer for {name} {tuple(tensor.shape)}")
        state[name] = torch.from_numpy(found)
    return state


def accuracy(model, images, labels):
    return sum(c == "1" for c in correct_images(model, images, labels)) / len(images)


def correct_images(model, images, labels):
    """Per test image, '1' where the model's top class is the label, else '0' (for McNemar's test)."""
    marks = []
    with torch.no_grad():
        for i in range(0, len(images), 1000):
            hits = (model(images[i:i + 1000]).argmax(1) == labels[i:i + 1000]).tolist()
            marks.extend("1" if hit else "0" for hit in hits)
    return "".join(marks)


VALIDATION_FIRST = 50000


def quantization_parameters(quantized):
    """Scale and zero point of every quantized activation of a convert_fx model: each quantized
    module's output, the graph input's quantize_per_tensor and quantized functionals (add_relu, ...)
    by FX node name. Weights are per channel and left out."""
    def constant(arg):
        if hasattr(arg, "op") and arg.op == "get_attr":
            value = getattr(quantized, arg.target)
            return float(value) if torch.is_tensor(value) and value.numel() == 1 else value
        return arg
    found = {}
    for name, module in quantized.named_modules():
        if name and hasattr(module, "scale") and hasattr(module, "zero_point"):
            try:
                found[name] = {"kind": type(module).__name__, "scale": float(module.scale), "zero_point": int(module.zero_point)}
            except (TypeError, ValueError, RuntimeError):
                pass
    for node in quantized.graph.nodes:
        if node.op != "call_function":
            continue
        args = [constant(a) for a in node.args]
        if "quantize_per_tensor" in str(node.target):
            found[f"input {node.args[0]}"] = {"kind": "quantize_per_tensor", "scale": float(args[1]), "zero_point": int(args[2])}
        elif str(node.target).startswith("quantized."):
            scale, zero = [a for a in args if isinstance(a, (int, float))][-2:]
            found[node.name] = {"kind": str(node.target), "scale": float(scale), "zero_point": int(zero)}
    return found


def jit_size(model, example):
    with tempfile.TemporaryDirectory() as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        path = os.path.join(tmp, "model.pt")
        with torch.no_grad():
            torch.jit.save(torch.jit.trace(model, example), path)
        return os.path.getsize(path)


def interleaved_latency(a, b, x, warmup, runs):
    times = {"a": [], "b": []}
    with torch.no_grad():
        for i in range(warmup + runs):
            for key, model in ((("a", a), ("b", b)) if i % 2 else (("b", b), ("a", a))):
                start = time.perf_counter()
                model(x)
                if i >= warmup:
                    times[key].append((time.perf_counter() - start) * 1000)
    return (float(np.median(times["a"])), float(np.median(times["b"])),
            float(np.min(times["a"])), float(np.min(times["b"])))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("fixture", choices=sorted(ARCHS))
    parser.add_argument("--model", help="ONNX file with the weights (default fixtures/models/<fixture>/model.onnx)")
    parser.add_argument("--samples", type=int, default=512, help="calibration: the first N training images")
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--calibration-offset", type=int, default=0, help="calibrate on training images [K, K+N)")
    parser.add_argument("--accuracy-only", action="store_true", help="skip sizes and latency")
    parser.add_argument("--validation", action="store_true", help="also per-image outcomes on training images 50,000-59,999")
    parser.add_argument("--dump-qparams", help="write activation scales/zero points as JSON to this file")
    args = parser.parse_args()
    torch.manual_seed(0)
    torch.set_num_threads(1)
    torch.backends.quantized.engine = "onednn"
    from torch.ao.quantization import get_default_qconfig_mapping
    from torch.ao.quantization.quantize_fx import convert_fx, prepare_fx

    folder = os.path.join(ROOT, "fixtures", "models", args.fixture)
    onnx_path = args.model or os.path.join(folder, "model.onnx")
    info_path = os.path.join(folder, "info.json")
    info = json.load(open(info_path)) if os.path.exists(info_path) else None
    shape = tuple(make_models.MODELS[args.fixture]["shape"])
    if args.fixture == "fashion-transformer":
        make_models.SelfAttention.forward = traceable_attention_forward
    model = ARCHS[args.fixture]()
    model.load_state_dict(onnx_weights(onnx_path, model))
    model.eval()

    data_dir = make_models.DATA_DIR
    def images(name, limit=None):
        x = make_models.read_idx(os.path.join(data_dir, name))[:limit].astype(np.float32) / 255.0
        return torch.from_numpy(x).reshape(-1, *shape)
    test_x = images("t10k-images-idx3-ubyte.gz")
    test_y = torch.from_numpy(make_models.read_idx(os.path.join(data_dir, "t10k-labels-idx1-ubyte.gz")).astype(np.int64))
    if args.calibration_offset < 0 or args.calibration_offset + args.samples > VALIDATION_FIRST:
        sys.exit(f"torch_fx: --calibration-offset must keep the calibration images below {VALIDATION_FIRST} (the validation split)")
    train_x = images("train-images-idx3-ubyte.gz")
    calibration = train_x[args.calibration_offset:args.calibration_offset + args.samples]

    fp32_accuracy = accuracy(model, test_x, test_y)
    if info is not None and abs(fp32_accuracy - info["accuracy"]["value"]) > 1e-9:
        sys.exit(f"torch_fx: {args.fixture}: torch fp32 accuracy {fp32_accuracy} differs from info.json's "
                 f"{info['accuracy']['value']}: the weights were not loaded as trained")

    example = test_x[: args.batch].contiguous()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        started = time.perf_counter()
        prepared = prepare_fx(copy.deepcopy(model), get_default_qconfig_mapping("onednn"), (example,))
        with torch.no_grad():
            for i in range(0, len(calibration), 64):
                prepared(calibration[i:i + 64])
        quantized = convert_fx(prepared)
        quantize_seconds = time.perf_counter() - started
    int8_correct = correct_images(quantized, test_x, test_y)
    int8_accuracy = int8_correct.count("1") / len(test_x)
    extra = {}
    if args.validation:
        train_y = torch.from_numpy(make_models.read_idx(os.path.join(data_dir, "train-labels-idx1-ubyte.gz")).astype(np.int64))
        extra["validation_int8_correct"] = correct_images(quantized, train_x[VALIDATION_FIRST:], train_y[VALIDATION_FIRST:])
    if args.dump_qparams:
        with open(args.dump_qparams, "w") as out:
            json.dump(quantization_parameters(quantized), out, indent=1)
    if args.accuracy_only:
        print(json.dumps({"fixture": args.fixture, "calibration_offset": args.calibration_offset, "calibration_samples": len(calibration),
                          "fp32_accuracy": fp32_accuracy, "int8_accuracy": int8_accuracy, "int8_correct": int8_correct, **extra}))
        return
    fp32_ms, int8_ms, fp32_min_ms, int8_min_ms = interleaved_latency(model, quantized, example, args.warmup, args.runs)
    kinds = sorted({type(m).__module__ + "." + type(m).__name__ for m in quantized.modules()
                    if type(m).__module__.startswith("torch.ao.nn.quantized") or type(m).__module__.startswith("torch.nn.quantized")
                    or type(m).__module__.startswith("torch.nn.intrinsic.quantized") or type(m).__module__.startswith("torch.ao.nn.intrinsic.quantized")})
    print(json.dumps({
        "peer": f"torch {torch.__version__} FX prepare_fx/convert_fx, get_default_qconfig_mapping('onednn'), engine onednn",
        "fixture": args.fixture,
        "weights": "ONNX fixture's initializers loaded into make_models.py's architecture",
        "calibration_samples": len(calibration),
        "fp32_accuracy": fp32_accuracy,
        "int8_accuracy": int8_accuracy,
        "int8_correct": int8_correct,
        "fp32_jit_bytes": jit_size(model, example),
        "int8_jit_bytes": jit_size(quantized, example),
        "fp32_ms": fp32_ms,
        "int8_ms": int8_ms,
        "fp32_min_ms": fp32_min_ms,
        "int8_min_ms": int8_min_ms,
        "batch": args.batch,
        "threads": torch.get_num_threads(),
        "quantize_seconds": quantize_seconds,
        "quantized_modules": kinds,
        **extra,
    }))


if __name__ == "__main__":
    main()
