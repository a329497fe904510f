"""Makes small TorchScript archives and a state dict with Debian torch, plus torch's own values.

usage: /usr/bin/python3 make-archives.py OUT_DIR
Writes scripted.pt, traced.pt, state_dict.pt, input.npy, and for each archive <name>.expected.npy
(the module's output on input.npy) and <name>.tensors.json (every tensor's name, dtype, shape, values
as a flat list) — the referee values the tests compare against.
"""
import json
import sys
import warnings

import numpy as np
import torch


class Block(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 4, 3)
        self.bn = torch.nn.BatchNorm2d(4)
        self.fc = torch.nn.Linear(4, 2)
        self.register_buffer("steps", torch.arange(6, dtype=torch.int64).reshape(2, 3))
        self.scale = 0.5

    def forward(self, x):
        y = torch.relu(self.bn(self.conv(x))).mean([2, 3])
        if y.sum() > 0:
            y = y * self.scale
        return self.fc(y)


def tensors_of(module):
    out = {}
    for name, value in list(module.state_dict().items()):
        out[name] = {"dtype": str(value.dtype).replace("torch.", ""), "shape": list(value.shape),
                     "values": value.detach().reshape(-1).tolist()}
    return out


def main(out_dir):
    torch.manual_seed(0)
    model = Block().eval()
    # a strided (transposed) view in the state dict, to test strides and storage offsets
    x = torch.randn(2, 3, 8, 8)
    np.save(f"{out_dir}/input.npy", x.numpy())
    scripted = torch.jit.script(model)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the data-dependent `if` is traced as taken: expected
        traced = torch.jit.trace(model, x)
    for name, mod in (("scripted", scripted), ("traced", traced)):
        torch.jit.save(mod, f"{out_dir}/{name}.pt")
        with torch.no_grad():
            np.save(f"{out_dir}/{name}.expected.npy", mod(x).numpy())
        with open(f"{out_dir}/{name}.tensors.json", "w") as f:
            json.dump(tensors_of(mod), f)
    state = model.state_dict()
    state["transposed"] = torch.arange(12, dtype=torch.float32).reshape(3, 4).t()
    state["sliced"] = torch.arange(10, dtype=torch.float64)[3:7]
    state["half"] = torch.linspace(-2, 2, 5).half()
    torch.save(state, f"{out_dir}/state_dict.pt")
    with open(f"{out_dir}/state_dict.tensors.json", "w") as f:
        json.dump({k: {"dtype": str(v.dtype).replace("torch.", ""), "shape": list(v.shape),
                       "values": v.reshape(-1).tolist()} for k, v in state.items()}, f)


if __name__ == "__main__":
    main(sys.argv[1])
