"""PyTorch referee for modelpass's autodiff: gradients of a model's initializers under a loss.

Rebuilds the ONNX graph as eager PyTorch ops (an op table, one small function per ONNX op), with every
float initializer a float64 leaf tensor, computes the loss, runs loss.backward() and writes each
gradient as <out>/<index>.npy plus <out>/names.json (index -> initializer name) and <out>/loss.npy.

usage: torch-reference-grads.py MODEL.onnx INPUT.npy LABELS.npy OUT_DIR [MODEL INPUT LABELS OUT ...]
(several groups of four share one interpreter start). The loss is cross-entropy against LABELS.
Only reads the ONNX file with onnx.load (no code in a model file is run).
"""
import json
import os
import sys

import numpy as np
import onnx
import torch
import torch.nn.functional as F
from onnx import numpy_helper


def attr(node, name, default=None):
    for a in node.attribute:
        if a.name == name:
            return onnx.helper.get_attribute_value(a)
    return default


def ints_of(t):
    return [int(v) for v in t.reshape(-1).tolist()]


def conv(node, x, w, b=None):
    k = len(w.shape) - 2
    pads = attr(node, 'pads', [0] * 2 * k)
    if pads[:k] != pads[k:]:
        x = F.pad(x, [p for i in reversed(range(k)) for p in (pads[i], pads[i + k])])
        pads = [0] * 2 * k
    fn = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}[k]
    return fn(x, w, b, stride=attr(node, 'strides', [1] * k), padding=pads[:k], dilation=attr(node, 'dilations', [1] * k), groups=attr(node, 'group', 1))


def maxpool(node, x):
    k = attr(node, 'kernel_shape')
    pads = attr(node, 'pads', [0] * 2 * len(k))
    return F.max_pool2d(x, k, stride=attr(node, 'strides', k), padding=pads[:len(k)], ceil_mode=bool(attr(node, 'ceil_mode', 0)))


def gemm(node, a, b, c=None):
    if attr(node, 'transA', 0):
        a = a.t()
    if attr(node, 'transB', 0):
        b = b.t()
    y = attr(node, 'alpha', 1.0) * (a @ b)
    return y if c is None else y + attr(node, 'beta', 1.0) * c


# BatchNormalization in training mode (batch statistics) when TORCH_BN_TRAINING=1; the updated
# running statistics are written as running.<name>.npy.
BN_TRAINING = os.environ.get('TORCH_BN_TRAINING') == '1'
RUNNING = {}


def batchnorm(node, x, scale, bias, mean, var):
    eps = attr(node, 'epsilon', 1e-5)
    if not BN_TRAINING:
        return F.batch_norm(x, mean.detach(), var.detach(), scale, bias, training=False, eps=eps)
    running_mean, running_var = mean.detach().clone(), var.detach().clone()
    RUNNING[node.input[3]], RUNNING[node.input[4]] = running_mean, running_var
    return F.batch_norm(x, running_mean, running_var, scale, bias, training=True, momentum=1 - attr(node, 'momentum', 0.9), eps=eps)


def reduce_mean(node, x, axes=None):
    axes = attr(node, 'axes') if axes is None else ints_of(axes)
    keep = bool(attr(node, 'keepdims', 1))
    return x.mean(dim=tuple(axes), keepdim=keep) if axes else x.mean()


def int_div(a, b):
    if a.dtype.is_floating_point:
        return a / b
    return torch.div(a, b, rounding_mode='trunc')


def slice_op(node, x, starts, ends, axes=None, steps=None):
    starts, ends = ints_of(starts), ints_of(ends)
    axes = ints_of(axes) if axes is not None else list(range(len(starts)))
    steps = ints_of(steps) if steps is not None else [1] * len(starts)
    index = [slice(None)] * x.dim()
    for s, e, a, st in zip(starts, ends, axes, steps):
        if st != 1:
            raise NotImplementedError('slice steps')
        n = x.shape[a]
        s = max(0, min(n, s + n if s < 0 else s))
        e = max(0, min(n, e + n if e < 0 else e))
        index[a] = slice(s, e)
    return x[tuple(index)]


def reshape(x, shape):
    shape = ints_of(shape)
    shape = [x.shape[i] if d == 0 else d for i, d in enumerate(shape)]
    return x.reshape(shape)


def unsqueeze(x, axes):
    for a in sorted(a + x.dim() + 1 if a < 0 else a for a in ints_of(axes)):
        x = x.unsqueeze(a)
    return x


OPS = {
    'Conv': conv,
    'MaxPool': maxpool,
    'Gemm': gemm,
    'BatchNormalization': batchnorm,
    'ReduceMean': reduce_mean,
    'Slice': slice_op,
    'Relu': lambda n, x: F.relu(x),
    'GlobalAveragePool': lambda n, x: x.mean(dim=tuple(range(2, x.dim())), keepdim=True),
    'LayerNormalization': lambda n, x, scale, bias=None: F.layer_norm(x, x.shape[attr(n, 'axis', -1):], scale, bias, eps=attr(n, 'epsilon', 1e-5)),
    'Flatten': lambda n, x: x.reshape(int(np.prod(x.shape[:attr(n, 'axis', 1)])), -1),
    'Add': lambda n, a, b: a + b,
    'Sub': lambda n, a, b: a - b,
    'Mul': lambda n, a, b: a * b,
    'Div': lambda n, a, b: int_div(a, b),
    'Pow': lambda n, a, b: a ** b,
    'Sqrt': lambda n, x: torch.sqrt(x),
    'Erf': lambda n, x: torch.erf(x),
    'MatMul': lambda n, a, b: a @ b,
    'Softmax': lambda n, x: torch.softmax(x, dim=attr(n, 'axis', -1)),
    'Transpose': lambda n, x: x.permute(*attr(n, 'perm', list(reversed(range(x.dim()))))),
    'Reshape': lambda n, x, s: reshape(x, s),
    'Unsqueeze': lambda n, x, axes: unsqueeze(x, axes),
    'Shape': lambda n, x: torch.tensor(list(x.shape), dtype=torch.int64),
    'Gather': lambda n, x, i: torch.index_select(x, attr(n, 'axis', 0), i.reshape(-1) % x.shape[attr(n, 'axis', 0)]).reshape(list(x.shape[:attr(n, 'axis', 0)]) + list(i.shape) + list(x.shape[attr(n, 'axis', 0) + 1:])),
    'Concat': lambda n, *xs: torch.cat(xs, dim=attr(n, 'axis')),
    'Identity': lambda n, x: x,
    'Dropout': lambda n, x, *rest: x,
}


def main():
    args = sys.argv[1:]
    if not args or len(args) % 4:
        raise SystemExit('usage: torch-reference-grads.py MODEL.onnx INPUT.npy LABELS.npy OUT_DIR [...]')
    for i in range(0, len(args), 4):
        reference_grads(*args[i:i + 4])


def reference_grads(model_path, input_path, labels_path, out_dir):
    model = onnx.load(model_path)
    values = {}
    params = {}
    for init in model.graph.initializer:
        array = numpy_helper.to_array(init)
        if array.dtype == np.float32 or array.dtype == np.float64:
            tensor = torch.tensor(array.astype(np.float64), requires_grad=True)
            params[init.name] = tensor
        else:
            tensor = torch.tensor(array)
        values[init.name] = tensor
    values[model.graph.input[0].name] = torch.tensor(np.load(input_path).astype(np.float64))
    for node in model.graph.node:
        if node.op_type == 'Constant':
            array = numpy_helper.to_array(attr(node, 'value'))
            values[node.output[0]] = torch.tensor(array.astype(np.float64) if array.dtype == np.float32 else array)
            continue
        fn = OPS.get(node.op_type)
        if fn is None:
            raise SystemExit(f'torch-reference-grads: no torch mapping for {node.op_type} ({node.name})')
        args = [values[name] for name in node.input if name]
        values[node.output[0]] = fn(node, *args)
    logits = values[model.graph.output[0].name]
    labels = torch.tensor(np.load(labels_path).astype(np.int64))
    loss = F.cross_entropy(logits, labels)
    loss.backward()
    os.makedirs(out_dir, exist_ok=True)
    names = {}
    for i, (name, tensor) in enumerate(params.items()):
        if tensor.grad is None:
            continue
        np.save(os.path.join(out_dir, f'{i}.npy'), tensor.grad.numpy())
        names[str(i)] = name
    np.save(os.path.join(out_dir, 'loss.npy'), np.array(loss.item()))
    for name, tensor in RUNNING.items():
        np.save(os.path.join(out_dir, f'running.{name}.npy'), tensor.numpy())
    RUNNING.clear()
    with open(os.path.join(out_dir, 'names.json'), 'w') as f:
        json.dump(names, f)


if __name__ == '__main__':
    main()
