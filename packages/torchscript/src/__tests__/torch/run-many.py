"""usage: /usr/bin/python3 run-many.py MANIFEST.json
One torch start-up for many runs. MANIFEST is a list of {"archive", "runs": [{"inputs": [npy...],
"out": PREFIX}]}: each archive is torch.jit.load-ed once and called on each run's inputs; output i
(a tensor or each item of a tuple) is saved as PREFIX.i.npy. An archive torch refuses (or a run that
fails) writes PREFIX.error.txt with torch's message instead, and the other entries still run."""
import json
import sys
import traceback

import numpy as np
import torch

for entry in json.load(open(sys.argv[1])):
    try:
        module = torch.jit.load(entry["archive"])
    except Exception:
        message = traceback.format_exc()
        for run in entry["runs"]:
            open(f'{run["out"]}.error.txt', 'w').write(message)
        continue
    for run in entry["runs"]:
        try:
            with torch.no_grad():
                out = module(*[torch.from_numpy(np.load(path)) for path in run["inputs"]])
            for index, tensor in enumerate(out if isinstance(out, tuple) else (out,)):
                np.save(f'{run["out"]}.{index}.npy', tensor.numpy())
        except Exception:
            open(f'{run["out"]}.error.txt', 'w').write(traceback.format_exc())
