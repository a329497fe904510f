"""usage: /usr/bin/python3 run-archive.py ARCHIVE.pt INPUT.npy OUTPUT.npy [RESAVED.pt]
torch.jit.load the archive, run it on the input, save the output; optionally re-save it with torch."""
import sys

import numpy as np
import torch

module = torch.jit.load(sys.argv[1])
with torch.no_grad():
    out = module(torch.from_numpy(np.load(sys.argv[2])))
np.save(sys.argv[3], out.numpy())
if len(sys.argv) > 4:
    torch.jit.save(module, sys.argv[4])
