"""usage: /usr/bin/python3 run-many.py MANIFEST.json
One torch start-up for many runs. MANIFEST is a list of {"archive", "runs": [{"inputs": [npy...],
"out": PREFIX}]}: each archive is torch.jit.load-ed once and called on each run's inputs; output i
(a tensor or each item of a tuple) is saved as PREFIX.i.npy."""
import json
import sys

import numpy as np
import torch

for entry in json.load(open(sys.argv[1])):
    module = torch.jit.load(entry["archive"])
    for run in entry["runs"]:
        with torch.no_grad():
            out = module(*[torch.from_numpy(np.load(path)) for path in run["inputs"]])
        for index, tensor in enumerate(out if isinstance(out, tuple) else (out,)):
            np.save(f'{run["out"]}.{index}.npy', tensor.numpy())
