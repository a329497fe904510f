"""usage: /usr/bin/python3 run-each.py ARCHIVE.pt OUT_PREFIX INPUT.npy...
torch.jit.load the archive once, run it on each input separately, save output i as OUT_PREFIX.i.npy."""
import sys

import numpy as np
import torch

module = torch.jit.load(sys.argv[1])
for index, path in enumerate(sys.argv[3:]):
    with torch.no_grad():
        out = module(torch.from_numpy(np.load(path)))
    np.save(f'{sys.argv[2]}.{index}.npy', out.numpy())
