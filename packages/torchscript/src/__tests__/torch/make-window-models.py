"""usage: /usr/bin/python3 make-window-models.py OUT_DIR
Small modules shaped like the parts of torchvision's swin_t and vit_b_16 that a stranger's archive
holds and the importer once refused: a window pad whose amounts are computed from the input size
(traced: tensor arithmetic on sizes; scripted: Python ints, `x.shape[-3:]`, a list copied and
changed with `shift[0] = 0`, `sum(shift)`, `-shift[0]`), and nn.MultiheadAttention traced in eval
mode (torch prints the fused `torch._native_multi_head_attention`). For each NAME: NAME.pt and, per
case i, NAME.input<i>.npy / NAME.expected<i>.npy (torch's output). Prints a JSON object: name →
list of input shapes."""
import json
import sys
import warnings
from typing import List

import numpy as np
import torch


class WindowPad(torch.nn.Module):
    """[B, H, W, C] padded at the bottom/right to multiples of the window (as swin's attention does), then rolled."""
    def __init__(self, window: int = 7, shift: int = 3):
        super().__init__()
        self.window = window
        self.shift_size = [shift, shift]
        self.proj = torch.nn.Linear(4, 4)

    def forward(self, x):
        H, W, _ = x.shape[-3:]
        pad_r = (self.window - W % self.window) % self.window
        pad_b = (self.window - H % self.window) % self.window
        y = torch.nn.functional.pad(self.proj(x), [0, 0, 0, pad_r, 0, pad_b])
        shift = self.shift_size.copy()
        if self.window >= y.shape[1]:
            shift[0] = 0
        if self.window >= y.shape[2]:
            shift[1] = 0
        if sum(shift) > 0:
            y = torch.roll(y, shifts=(-shift[0], -shift[1]), dims=(1, 2))
        return y * 2.0


class PadToWindow(torch.nn.Module):
    """Only the window pad: with H and W symbolic, its amounts are computed at run time."""
    def __init__(self, window: int = 7):
        super().__init__()
        self.window = window

    def forward(self, x):
        H, W, _ = x.shape[-3:]
        pad_r = (self.window - W % self.window) % self.window
        pad_b = (self.window - H % self.window) % self.window
        return torch.nn.functional.pad(x, [0, 0, 0, pad_r, 0, pad_b], value=0.5) * 3.0


class Attention(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.attn = torch.nn.MultiheadAttention(16, 4, batch_first=True)

    def forward(self, x):
        out, _ = self.attn(x, x, x, need_weights=False)
        return out + x


class AttentionWeights(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.attn = torch.nn.MultiheadAttention(16, 2, batch_first=True)

    def forward(self, x):
        out, weights = self.attn(x, x, x, need_weights=True)
        return out, weights


def main(out_dir: str) -> None:
    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(1)
    shapes = {}

    def save(name: str, module: torch.nn.Module, cases: List[List[int]]) -> None:
        module.save(f'{out_dir}/{name}.pt')
        for i, shape in enumerate(cases):
            x = torch.randn(*shape, generator=gen)
            with torch.no_grad():
                out = module(x)
            np.save(f'{out_dir}/{name}.input{i}.npy', x.numpy())
            for k, tensor in enumerate(out if isinstance(out, tuple) else (out,)):
                np.save(f'{out_dir}/{name}.expected{i}.{k}.npy', tensor.numpy())
        shapes[name] = cases

    warnings.simplefilter('ignore')  # the tracer's warnings about the shift branch (fixed for the traced shape, as intended)
    window = WindowPad().eval()
    with torch.no_grad():
        save('window_traced', torch.jit.trace(window, torch.randn(1, 10, 12, 4)), [[1, 10, 12, 4], [2, 10, 12, 4]])
    save('window_scripted', torch.jit.script(window), [[1, 10, 12, 4], [2, 10, 12, 4]])
    save('window_small', torch.jit.script(window), [[1, 5, 6, 4]])  # no shift: the window covers it
    save('pad_to_window', torch.jit.script(PadToWindow()), [[1, 10, 12, 4], [2, 9, 14, 4], [1, 7, 7, 4]])
    for name, module in [('mha_traced', Attention()), ('mha_weights_traced', AttentionWeights())]:
        module.eval()
        with torch.no_grad():
            save(name, torch.jit.trace(module, torch.randn(2, 5, 16)), [[2, 5, 16], [3, 7, 16]])
    print(json.dumps(shapes))


if __name__ == '__main__':
    main(sys.argv[1])
