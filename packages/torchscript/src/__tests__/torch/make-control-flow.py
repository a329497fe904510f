"""usage: /usr/bin/python3 make-control-flow.py OUT_DIR [NAME=ARCHIVE.pt ...]
Scripted modules whose branches and loops depend on tensor data (they become ONNX If / Loop): for
each NAME, NAME.pt and, per input case i, NAME.input<i>.npy and NAME.expected<i>.npy (torch's output).
The inputs are picked so both sides of every branch and several trip counts are taken. Each extra
NAME=ARCHIVE.pt (TorchScript source written by the test itself) is torch.jit.load-ed and run the same way."""
import sys
from typing import List

import numpy as np
import torch


class IfBoth(torch.nn.Module):
    """Both branches define y and z (If with two outputs)."""
    def forward(self, x):
        if x.sum() > 0:
            y = x * 2.0
            z = torch.relu(x)
        else:
            y = x - 1.0
            z = x
        return y + z


class IfNested(torch.nn.Module):
    """One-sided ifs (the else keeps the value from before), nested."""
    def forward(self, x):
        y = x * 3.0
        if bool(x.mean() < 0.1):
            y = y + 1.0
            if x.max() > 2.0:
                y = y * 0.5
        return y


class IfChecked(torch.nn.Module):
    """A check that raises on tensor data (ONNX has no exceptions: the other branch is taken)."""
    def forward(self, x):
        if bool(torch.isnan(x).any()):
            raise ValueError("NaN input")
        return torch.tanh(x)


class ForData(torch.nn.Module):
    """A for loop whose trip count is read from the input, carrying a tensor; the counter is used too."""
    def __init__(self):
        super().__init__()
        self.w = torch.nn.Parameter(torch.randn(8, 8) * 0.3)

    def forward(self, x):
        h = torch.zeros_like(x)
        n = int(torch.argmax(x[0]))
        for i in range(n):
            h = torch.tanh(h @ self.w + x) + float(i)
        return h


class ForStep(torch.nn.Module):
    """range(start, stop, step) with a data-dependent stop."""
    def forward(self, x):
        acc = x * 0.0
        stop = int(torch.argmax(x[0])) + 3
        for i in range(1, stop, 2):
            acc = acc + x * float(i)
        return acc


class WhileData(torch.nn.Module):
    """A while loop on tensor data and a Python counter (carried as an int64 scalar)."""
    def forward(self, x):
        i = 0
        h = x
        while bool(h.abs().sum() > 1.0) and i < 20:
            h = h * 0.5
            i += 1
        return h * float(i)


class IfScalar(torch.nn.Module):
    """Python floats bound on tensor data (If outputs made from numbers)."""
    def forward(self, x):
        s = 2.0 if bool(x.sum() > 0) else -1.0
        y = x * s
        return torch.relu(y) if bool(y.mean() > 0) else y


class IfList(torch.nn.Module):
    """Appends to a Python list on tensor data: refused (lists are import-time values)."""
    def forward(self, x):
        outs: List[torch.Tensor] = []
        if bool(x.sum() > 0):
            outs.append(x)
        else:
            outs.append(-x)
        return outs[0]


MODULES = {
    'if_both': IfBoth, 'if_nested': IfNested, 'if_checked': IfChecked, 'if_scalar': IfScalar,
    'for_data': ForData, 'for_step': ForStep, 'while_data': WhileData, 'if_list': IfList,
}


def main(out_dir, extra):
    torch.manual_seed(0)
    base = torch.randn(2, 8)
    cases = [base, -base.abs() - 0.5, base * 4.0, torch.zeros(2, 8)]
    modules = [(name, torch.jit.script(cls().eval())) for name, cls in MODULES.items()]
    modules += [(spec.split('=', 1)[0], torch.jit.load(spec.split('=', 1)[1])) for spec in extra]
    for name, module in modules:
        if name in MODULES:
            module.save(f"{out_dir}/{name}.pt")
        for i, x in enumerate(cases):
            np.save(f"{out_dir}/{name}.input{i}.npy", x.numpy())
            with torch.no_grad():
                np.save(f"{out_dir}/{name}.expected{i}.npy", module(x).numpy())
    print(len(cases))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])
