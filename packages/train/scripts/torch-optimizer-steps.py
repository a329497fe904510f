#!/usr/bin/python3
"""Runs torch.optim on given weights and per-step gradients (the optimizer referee).

usage: torch-optimizer-steps.py SPEC.json DIR
SPEC: {"optimizer": "sgd"|"adamw", "options": {...torch kwargs...}, "weights": [names], "steps": K,
       "lrs": [lr per step] (LambdaLR-free: set param_group lr before each step),
       "schedules": {"steps": N, "lr": base, "step_size": s, "gamma": g}}
DIR holds <name>.npy (initial weight) and <name>.grad<k>.npy (gradient of step k); writes
<name>.final.npy (float32 weights after K steps) and schedules.json (torch's StepLR / CosineAnnealingLR lrs).
"""
import json
import os
import sys

import numpy as np
import torch

spec = json.load(open(sys.argv[1]))
folder = sys.argv[2]
params = [torch.nn.Parameter(torch.from_numpy(np.load(os.path.join(folder, f'{n}.npy')))) for n in spec['weights']]
optimizer_class = {'sgd': torch.optim.SGD, 'adamw': torch.optim.AdamW}[spec['optimizer']]
options = dict(spec['options'])
if 'betas' in options:
    options['betas'] = tuple(options['betas'])
optimizer = optimizer_class(params, lr=spec['lrs'][0], foreach=False, **options)
for k in range(spec['steps']):
    for group in optimizer.param_groups:
        group['lr'] = spec['lrs'][k]
    for name, p in zip(spec['weights'], params):
        p.grad = torch.from_numpy(np.load(os.path.join(folder, f'{name}.grad{k}.npy')))
    optimizer.step()
for name, p in zip(spec['weights'], params):
    np.save(os.path.join(folder, f'{name}.final.npy'), p.detach().numpy())

s = spec['schedules']
lrs = {}
for kind in ('step', 'cosine'):
    p = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([p], lr=s['lr'])
    sched = torch.optim.lr_scheduler.StepLR(opt, s['step_size'], s['gamma']) if kind == 'step' else torch.optim.lr_scheduler.CosineAnnealingLR(opt, s['steps'])
    seq = []
    for _ in range(s['steps']):
        seq.append(opt.param_groups[0]['lr'])
        opt.step()
        sched.step()
    lrs[kind] = seq
json.dump(lrs, open(os.path.join(folder, 'schedules.json'), 'w'))
