#!/usr/bin/python3
"""PyTorch's side of the training bench: one epoch of the Fashion-MNIST CNN (tools/fixtures/make_models.py's
FashionCnn) from the fixture's ONNX weights, train mode (BatchNorm batch statistics), SGD momentum 0.9,
batch 128, partial batch dropped, CPU, the given thread count. Prints one JSON line: epoch seconds (and CPU seconds, all threads),
samples/s, loss, test accuracy, peak RSS (ru_maxrss) and the RSS before training.

usage: torch_epoch.py MODEL.onnx THREADS BATCH LR SEED [OPTIMIZER [SAMPLES]]
"""
import json
import os
import resource
import sys
import time

import numpy as np
import onnx
import torch
import torch.nn.functional as F
from onnx import numpy_helper

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..', '..', 'fixtures'))
from make_models import FashionCnn, load_fashion_mnist  # noqa: E402


def rss_kib():
    with open('/proc/self/status') as f:
        for line in f:
            if line.startswith('VmRSS:'):
                return int(line.split()[1])
    return 0


path, threads, batch, lr, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5])
optimizer_name = sys.argv[6] if len(sys.argv) > 6 else 'sgd'
samples = int(sys.argv[7]) if len(sys.argv) > 7 else 0
torch.set_num_threads(threads)
torch.manual_seed(seed)
data = load_fashion_mnist()
model = FashionCnn()
weights = {i.name: torch.from_numpy(numpy_helper.to_array(i).copy()) for i in onnx.load(path).graph.initializer}
model.load_state_dict({k: weights[k] for k in model.state_dict() if k in weights}, strict=False)
model.train()
opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9) if optimizer_name == 'sgd' else torch.optim.AdamW(model.parameters(), lr=lr)
x_all = data['train_x'].reshape(-1, 1, 28, 28)
y_all = data['train_y']
if samples > 0:
    x_all, y_all = x_all[:samples], y_all[:samples]
order = torch.randperm(len(y_all))
rss_before = rss_kib()
started = time.perf_counter()
cpu_started = time.process_time()
steps = len(order) // batch
loss_sum = 0.0
for s in range(steps):
    idx = order[s * batch:(s + 1) * batch]
    opt.zero_grad(set_to_none=True)
    loss = F.cross_entropy(model(x_all[idx]), y_all[idx])
    loss.backward()
    opt.step()
    loss_sum += loss.item()
seconds = time.perf_counter() - started
cpu_seconds = time.process_time() - cpu_started
model.eval()
with torch.no_grad():
    correct = (model(data['test_x'].reshape(-1, 1, 28, 28)).argmax(1) == data['test_y']).sum().item()
print(json.dumps({
    'seconds': seconds, 'cpu_seconds': cpu_seconds, 'samples_per_second': steps * batch / seconds, 'steps': steps, 'loss': loss_sum / steps,
    'test_accuracy': correct / len(data['test_y']), 'peak_rss_mib': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    'rss_before_training_mib': rss_before / 1024, 'threads': threads, 'torch': torch.__version__,
}))
