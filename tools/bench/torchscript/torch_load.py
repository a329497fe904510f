"""usage: /usr/bin/python3 torch_load.py ARCHIVE.pt
Prints JSON: torch.jit.load wall time (ms) and peak RSS growth (MiB) over the process after `import torch`."""
import json
import resource
import sys
import time

import torch

torch.set_num_threads(1)
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
start = time.perf_counter()
module = torch.jit.load(sys.argv[1])
elapsed = (time.perf_counter() - start) * 1000
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"ms": elapsed, "peakMiB": (peak - base) / 1024}))
