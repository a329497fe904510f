"""usage: /usr/bin/python3 make-cell-models.py OUT_DIR
nn.LSTMCell / GRUCell / RNNCell (tanh, relu) stepped over time by a Python loop, scripted (torch
prints `torch.lstm_cell`, `gru_cell`, `rnn_tanh_cell`, `rnn_relu_cell`) and traced (the cells'
own code: `torch.unsafe_chunk` of the gates); and a scripted module whose loop count comes from
`t.item()`. For each NAME: NAME.pt and, per case i, NAME.input<i>.npy / NAME.expected<i>.npy. Prints
a JSON object: name -> number of cases."""
import json
import sys
import warnings
from typing import List

import numpy as np
import torch


class LstmStepper(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.cell = torch.nn.LSTMCell(6, 10)
        self.out = torch.nn.Linear(10, 3)

    def forward(self, x):
        h = torch.zeros(x.size(0), 10) + 0.1
        c = torch.zeros(x.size(0), 10) - 0.2
        outs: List[torch.Tensor] = []
        for t in range(x.size(1)):
            h, c = self.cell(x[:, t], (h, c))
            outs.append(self.out(h))
        return torch.stack(outs, 1)


class CellStepper(torch.nn.Module):
    def __init__(self, kind: str):
        super().__init__()
        self.cell = torch.nn.GRUCell(6, 10) if kind == 'gru' else torch.nn.RNNCell(6, 10, nonlinearity=kind)
        self.out = torch.nn.Linear(10, 3)

    def forward(self, x):
        h = torch.zeros(x.size(0), 10) + 0.1
        outs: List[torch.Tensor] = []
        for t in range(x.size(1)):
            h = self.cell(x[:, t], h)
            outs.append(self.out(h))
        return torch.stack(outs, 1)


class ItemLoop(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = torch.nn.Linear(8, 8)

    def forward(self, x):
        n = int(x.abs().sum().item()) % 3 + 1
        y = x
        for _ in range(n):
            y = torch.relu(self.lin(y)) + y * 0.5
        return y


def main(out_dir: str) -> None:
    warnings.simplefilter('ignore')
    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(1)
    counts = {}

    def save(name, module, inputs):
        module.save(f'{out_dir}/{name}.pt')
        for i, x in enumerate(inputs):
            with torch.no_grad():
                out = module(x)
            np.save(f'{out_dir}/{name}.input{i}.npy', x.numpy())
            np.save(f'{out_dir}/{name}.expected{i}.npy', out.numpy())
        counts[name] = len(inputs)

    for kind in ['lstm', 'gru', 'tanh', 'relu']:
        model = (LstmStepper() if kind == 'lstm' else CellStepper(kind)).eval()
        inputs = [torch.randn(2, 4, 6, generator=gen), torch.randn(3, 4, 6, generator=gen)]
        save(f'{kind}_scripted', torch.jit.script(model), inputs)
        with torch.no_grad():
            save(f'{kind}_traced', torch.jit.trace(model, inputs[0]), inputs)
    # Inputs whose |x| sums give 1, 2 and 3 trips.
    base = torch.randn(1, 8, generator=gen)
    trips = [base / base.abs().sum() * s for s in (0.5, 1.5, 2.5, 3.5)]
    save('item_loop', torch.jit.script(ItemLoop().eval()), trips)
    print(json.dumps(counts))


if __name__ == '__main__':
    main(sys.argv[1])
