"""The peer of tools/bench/prune: PyTorch's torch.nn.utils.prune on the same fixture weights.

Rebuilds a Fashion-MNIST fixture's architecture (the classes of tools/fixtures/make_models.py), loads
the ONNX fixture's initializers (named like torch's state_dict), applies
prune.global_unstructured(L1Unstructured, amount) over every Conv2d/Linear weight, and evaluates
dense and pruned accuracy on the 10k test set. With --ours, it also counts where modelpass's pruned
weights (same model pruned by prune-magnitude{scope=global}) zero a different set of weights.
Prints one JSON object. Run with Debian's /usr/bin/python3 (torch, onnx).
"""
import argparse, json, os, sys, time

import numpy as np
import onnx
from onnx import numpy_helper
import torch
import torch.nn.utils.prune as prune

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "fixtures"))
import make_models  # noqa: E402  (defines the architectures and the IDX reader; main() is not run on import)

ARCHS = {"fashion-cnn": make_models.FashionCnn, "fashion-mlp": make_models.FashionMlp}


def initializers(path):
    return {t.name: numpy_helper.to_array(t) for t in onnx.load(path).graph.initializer}


def accuracy(model, images, labels, flatten):
    with torch.no_grad():
        x = images.reshape(len(images), -1) if flatten else images.unsqueeze(1)
        return float((model(x).argmax(1) == labels).float().mean())


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("fixture", choices=sorted(ARCHS))
    parser.add_argument("--amount", type=float, default=0.5)
    parser.add_argument("--ours", help="modelpass's pruned ONNX of the same fixture, to compare masks")
    args = parser.parse_args()
    torch.set_num_threads(1)
    root = os.path.join(HERE, "..", "..", "..", "fixtures", "models", args.fixture)
    model = ARCHS[args.fixture]()
    weights = {k: torch.from_numpy(v.copy()) for k, v in initializers(os.path.join(root, "model.onnx")).items()}
    missing, unexpected = model.load_state_dict(weights, strict=False)
    if unexpected or any(not k.endswith("num_batches_tracked") for k in missing):
        sys.exit(f"torch_prune: weights do not match the architecture: missing {missing}, unexpected {unexpected}")
    model.eval()
    data_dir = make_models.DATA_DIR
    images = torch.from_numpy(make_models.read_idx(os.path.join(data_dir, "t10k-images-idx3-ubyte.gz")).astype(np.float32) / 255.0)
    labels = torch.from_numpy(make_models.read_idx(os.path.join(data_dir, "t10k-labels-idx1-ubyte.gz")).astype(np.int64))
    flatten = args.fixture == "fashion-mlp"
    dense = accuracy(model, images, labels, flatten)
    layers = [(name, m) for name, m in model.named_modules() if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear))]
    start = time.perf_counter()
    prune.global_unstructured([(m, "weight") for _, m in layers], pruning_method=prune.L1Unstructured, amount=args.amount)
    seconds = time.perf_counter() - start
    pruned = accuracy(model, images, labels, flatten)
    total = sum(m.weight.numel() for _, m in layers)
    zeros = sum(int((m.weight == 0).sum()) for _, m in layers)
    result = {
        "peer": f"torch {torch.__version__} torch.nn.utils.prune.global_unstructured(L1Unstructured, amount={args.amount})",
        "fixture": args.fixture, "dense_accuracy": dense, "pruned_accuracy": pruned,
        "weights": total, "zeros": zeros, "prune_seconds": seconds,
        "per_layer_sparsity": {name: float((m.weight == 0).float().mean()) for name, m in layers},
    }
    if args.ours:
        ours = initializers(args.ours)
        result["mask_differences"] = sum(int(((ours[f"{name}.weight"] == 0) != (m.weight.detach().numpy() == 0)).sum()) for name, m in layers)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
