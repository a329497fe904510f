/**
 * MaxPool's gradient for windows that tile the input (kernel == stride; the Equal/Where/MaxUnpool form)
 * against PyTorch's max_pool{1,2,3}d backward on inputs full of ties (small integers, ReLU zeros): the
 * gradient must go to each window's first maximum, as torch sends it. float32 runs in ONNX Runtime
 * (MaxUnpool), float64 in the reference interpreter (ScatterElements); floor-mode remainders included; with a
 * Relu before the pool its mask is applied to the pooled gradient (windows of ReLU zeros get none, as in torch).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { attrs, GraphBuilder, Tensor, tensorType } from '@modelpass/ir';
import { runReference } from '@modelpass/ops';
import { readNpy, runOrt, writeNpy } from '@modelpass/runtime';
import { buildGradientGraph } from '@modelpass/train';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seeded } from './gradcheck.js';

/** argv: (folder, kernel, relu|plain) triples; each folder holds x.npy and t.npy, torch writes dx.npy. */
const TORCH = `
import sys, numpy as np, torch
args = sys.argv[1:]
for d, kernel, mode in zip(args[0::3], args[1::3], args[2::3]):
    k = [int(v) for v in kernel.split(',')]
    x = torch.from_numpy(np.load(d + '/x.npy')).double().requires_grad_()
    t = torch.from_numpy(np.load(d + '/t.npy')).double()
    pool = {1: torch.nn.functional.max_pool1d, 2: torch.nn.functional.max_pool2d, 3: torch.nn.functional.max_pool3d}[len(k)]
    y = pool(torch.relu(x) if mode == 'relu' else x, k, k)
    torch.nn.functional.mse_loss(y, t).backward()
    np.save(d + '/dx.npy', x.grad.numpy())
`;

const work = mkdtempSync(join(tmpdir(), 'maxpool-tiled-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

interface Case { readonly shape: number[]; readonly kernel: number[]; readonly relu: boolean; readonly values: number }
const cases: Record<string, Case> = {
  '2×2 on 6×8, values in {0,1,2}': { shape: [2, 3, 6, 8], kernel: [2, 2], relu: false, values: 3 },
  '2×2 on 5×7 (floor-mode remainder), ReLU zeros': { shape: [2, 2, 5, 7], kernel: [2, 2], relu: true, values: 5 },
  '3×3 on 7×9, constant input': { shape: [1, 2, 7, 9], kernel: [3, 3], relu: false, values: 1 },
  '2×3 on 6×7, values in {0,1}': { shape: [2, 2, 6, 7], kernel: [2, 3], relu: false, values: 2 },
  '1-D 2 on 9': { shape: [2, 3, 9], kernel: [2], relu: true, values: 4 },
  '3-D 2×2×2 on 4×5×4': { shape: [1, 2, 4, 5, 4], kernel: [2, 2, 2], relu: false, values: 2 },
};

/** Each case's input (small integers: many ties) and target, and torch's dX for them (one Python start for all). */
const data = new Map<string, { x: number[]; target: number[]; outShape: number[]; expected: number[] }>();

describe('MaxPool gradient with tiling windows, ties as torch breaks them', () => {
  beforeAll(() => {
    const args: string[] = [];
    for (const [name, { shape, kernel, relu, values }] of Object.entries(cases)) {
      const rng = seeded(name.length);
      const x = Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => Math.floor(rng() * values) - (relu ? 2 : 0));
      const outShape = shape.map((d, i) => (i < 2 ? d : Math.floor(d / kernel[i - 2]!)));
      const target = Array.from({ length: outShape.reduce((a, b) => a * b, 1) }, () => rng() * 4 - 2);
      const dir = mkdtempSync(join(work, 'case-'));
      writeNpy(Tensor.fromValues('float64', shape, x), join(dir, 'x.npy'));
      writeNpy(Tensor.fromValues('float64', outShape, target), join(dir, 't.npy'));
      args.push(dir, kernel.join(','), relu ? 'relu' : 'plain');
      data.set(name, { x, target, outShape, expected: [] });
    }
    execFileSync('/usr/bin/python3', ['-c', TORCH, ...args], { stdio: 'pipe' });
    [...data.values()].forEach((entry, i) => { entry.expected = readNpy(join(args[3 * i]!, 'dx.npy')).toNumbers(); });
  });

  for (const [name, { shape, kernel, relu }] of Object.entries(cases)) {
    for (const dtype of ['float32', 'float64'] as const) {
      it(`${name} (${dtype})`, async () => {
        const entry = data.get(name)!;
        const x = Tensor.fromValues(dtype, shape, entry.x);
        const target = Tensor.fromValues(dtype, entry.outShape, entry.target);

        const g = new GraphBuilder();
        const input = g.input('x', tensorType(dtype, shape));
        const pooled = g.op1('onnx.MaxPool', [relu ? g.op1('onnx.Relu', [input]) : input], { kernel_shape: attrs.ints(kernel), strides: attrs.ints(kernel) });
        g.output(pooled);
        const training = buildGradientGraph(g.model({ onnx: 17 }), { loss: { kind: 'mse' }, wrt: ['x'] });
        const ops = training.model.graph.nodeList().map((n) => n.op);
        if (dtype === 'float32') expect(ops).not.toContain('onnx.ScatterElements');
        expect(ops.filter((op) => op === 'onnx.MaxPool')).toHaveLength(1); // no second MaxPool for the Indices
        // one scatter: with a Relu before the pool, its mask applies to the pooled gradient and the unmasked scatter is gone
        expect(ops.filter((op) => op === 'onnx.MaxUnpool' || op === 'onnx.ScatterElements')).toHaveLength(1);
        const feeds = { x, target };
        const gradName = training.gradients.get('x')!;
        const actual = dtype === 'float32'
          ? (await runOrt(training.model, feeds)).get(gradName)!
          : (runReference(training.model, feeds, { outputs: [gradName] }).get(gradName) as Tensor);
        const expected = entry.expected;
        const got = actual.toNumbers();
        expect(got.length).toBe(expected.length);
        const scale = Math.max(...expected.map(Math.abs));
        expect(scale).toBeGreaterThan(0);
        const worst = Math.max(...expected.map((e, i) => Math.abs(e - got[i]!)));
        expect(worst / scale).toBeLessThan(dtype === 'float32' ? 1e-6 : 1e-12);
      });
    }
  }

  it('the float32 graph uses MaxUnpool; float64 scatters (ORT has no float64 MaxUnpool)', () => {
    for (const dtype of ['float32', 'float64'] as const) {
      const g = new GraphBuilder();
      g.output(g.op1('onnx.MaxPool', [g.input('x', tensorType(dtype, ['N', 4, 8, 8]))], { kernel_shape: attrs.ints([2, 2]), strides: attrs.ints([2, 2]) }));
      const ops = buildGradientGraph(g.model({ onnx: 17 }), { loss: { kind: 'mse' }, wrt: ['x'] }).model.graph.nodeList().map((n) => n.op);
      expect(ops.includes('onnx.MaxUnpool')).toBe(dtype === 'float32');
      expect(ops.includes('onnx.ScatterElements')).toBe(dtype === 'float64');
    }
  });

  it('overlapping or padded windows keep the general form (MaxPool Indices, ScatterElements)', () => {
    const g = new GraphBuilder();
    g.output(g.op1('onnx.MaxPool', [g.input('x', tensorType('float32', [1, 2, 8, 8]))], { kernel_shape: attrs.ints([3, 3]), strides: attrs.ints([2, 2]) }));
    const ops = buildGradientGraph(g.model({ onnx: 17 }), { loss: { kind: 'mse' }, wrt: ['x'] }).model.graph.nodeList().map((n) => n.op);
    expect(ops.filter((op) => op === 'onnx.MaxPool')).toHaveLength(2);
    expect(ops).toContain('onnx.ScatterElements');
  });
});
