"""usage: /usr/bin/python3 make-small-archives.py OUT_DIR
Small scripted modules for importer edge cases: an op with no lowering (logcumsumexp), a branch on tensor
data, and a module whose input rank only the caller knows (an LSTM-free sequence head), and torch.flatten from dim 2."""
import sys

import numpy as np
import torch


class NoLowering(torch.nn.Module):
    def forward(self, x):
        return torch.logcumsumexp(torch.relu(x), 1) * 2.0


class DataDependentIf(torch.nn.Module):
    def forward(self, x):
        if x.sum() > 0:
            return x * 2.0
        return x - 1.0


class TokenHead(torch.nn.Module):
    """[N, T, 8] → a chunked projection; negative dims need the input rank."""
    def __init__(self):
        super().__init__()
        self.proj = torch.nn.Linear(8, 12)

    def forward(self, x):
        a, b = self.proj(x).chunk(2, dim=-1)
        return torch.softmax(a, dim=-1) * torch.tanh(b)


class FlattenFrom2(torch.nn.Module):
    """torch.flatten(x, 2) keeps rank 3 ([N, T, 8] stays [N, T, 8]; [N, C, H, W] would be [N, C, H*W]), then a bmm."""
    def forward(self, x):
        y = torch.flatten(x.unsqueeze(-1), 2)
        return torch.bmm(y, y.transpose(1, 2))


class HugeFor(torch.nn.Module):
    """A for loop over a constant range of 10**9: torch never runs it here; an importer that unrolls it would hang."""
    def forward(self, x):
        y = x
        for _ in range(1000000000):
            y = y + 1.0
        return y


def main(out_dir):
    torch.manual_seed(0)
    x = torch.randn(2, 5, 8)
    np.save(f"{out_dir}/tokens.npy", x.numpy())
    torch.jit.script(HugeFor()).save(f"{out_dir}/huge_for.pt")
    for name, module in (("logcumsumexp", NoLowering()), ("data_if", DataDependentIf()), ("token_head", TokenHead().eval()), ("flatten_from_2", FlattenFrom2())):
        scripted = torch.jit.script(module)
        scripted.save(f"{out_dir}/{name}.pt")
        with torch.no_grad():
            np.save(f"{out_dir}/{name}.expected.npy", scripted(x).numpy())


if __name__ == "__main__":
    main(sys.argv[1])
