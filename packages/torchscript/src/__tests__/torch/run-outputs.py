"""usage: /usr/bin/python3 run-outputs.py ARCHIVE.pt OUT_PREFIX INPUT.npy...
torch.jit.load the archive, run it on the inputs, save output i (a tensor or each of a tuple) as OUT_PREFIX.i.npy."""
import sys

import numpy as np
import torch

module = torch.jit.load(sys.argv[1])
with torch.no_grad():
    out = module(*[torch.from_numpy(np.load(path)) for path in sys.argv[3:]])
for index, tensor in enumerate(out if isinstance(out, tuple) else (out,)):
    np.save(f'{sys.argv[2]}.{index}.npy', tensor.numpy())
