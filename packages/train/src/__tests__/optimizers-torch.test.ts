/**
 * The optimizer updates, as ONNX graphs run in ONNX Runtime, against torch.optim (Debian's PyTorch)
 * on identical float32 weights and per-step gradients: SGD (momentum, weight decay) and AdamW (bias
 * correction, decoupled weight decay) over 6 steps with a changing learning rate, every weight within
 * 1e-5 relative of PyTorch's. Also the step and cosine schedules against torch's StepLR and
 * CosineAnnealingLR.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Tensor } from '@modelpass/ir';
import { OrtRunner, readNpy, writeNpy } from '@modelpass/runtime';
import { learningRateAt, optimizerRule, optimizerStepModel, type OptimizerSpec } from '@modelpass/train';
import { afterAll, describe, expect, it } from 'vitest';
import { seeded } from './gradcheck.js';

const script = fileURLToPath(new URL('../../scripts/torch-optimizer-steps.py', import.meta.url));
const SHAPES = new Map<string, number[]>([['conv.weight', [4, 3, 3, 3]], ['fc.bias', [10]], ['fc.weight', [10, 32]]]);
const LRS = [0.01, 0.02, 0.02, 0.015, 0.005, 0.01];
const runner = new OrtRunner();
afterAll(() => runner.dispose());

function random(shape: readonly number[], rng: () => number, scale: number): Tensor {
  const size = shape.reduce((a, b) => a * b, 1);
  return Tensor.fromValues('float32', shape, Float32Array.from({ length: size }, () => scale * (2 * rng() - 1)));
}

async function compare(spec: OptimizerSpec, torchOptions: Record<string, unknown>): Promise<number> {
  const work = mkdtempSync(join(tmpdir(), 'train-optim-'));
  const rng = seeded(11);
  const weights = new Map([...SHAPES].map(([name, shape]) => [name, random(shape, rng, 0.5)]));
  const grads = LRS.map(() => new Map([...SHAPES].map(([name, shape]) => [name, random(shape, rng, 0.1)])));
  for (const [name, w] of weights) writeNpy(w, join(work, `${name}.npy`));
  grads.forEach((step, k) => step.forEach((g, name) => writeNpy(g, join(work, `${name}.grad${k}.npy`))));
  writeFileSync(join(work, 'spec.json'), JSON.stringify({
    optimizer: spec.kind, options: torchOptions, weights: [...SHAPES.keys()], steps: LRS.length, lrs: LRS,
    schedules: { steps: 20, lr: 0.1, step_size: 6, gamma: 0.5 },
  }));
  execFileSync('/usr/bin/python3', [script, join(work, 'spec.json'), work], { stdio: 'pipe' });

  const step = optimizerStepModel(spec, SHAPES);
  const rule = optimizerRule(spec);
  const state = new Map<string, Tensor>();
  for (const [name, shape] of SHAPES) for (const slot of step.slots) state.set(`optimizer.${slot}.${name}`, Tensor.fromValues('float32', shape, new Float32Array(shape.reduce((a, b) => a * b, 1))));
  const current = new Map(weights);
  for (let k = 0; k < LRS.length; k++) {
    const feeds: Record<string, Tensor> = {};
    for (const [name, w] of current) { feeds[name] = w; feeds[`grad.${name}`] = grads[k]!.get(name)!; }
    for (const [name, value] of state) feeds[name] = value;
    const scalars = rule.scalars(spec, LRS[k]!, k + 1);
    for (const [name, input] of step.scalarInputs) feeds[input] = Tensor.scalar('float32', scalars[name]!);
    const out = await runner.run(step.model, feeds);
    for (const name of SHAPES.keys()) current.set(name, out.get(`updated.${name}`)!);
    for (const name of state.keys()) state.set(name, out.get(`updated.${name}`)!);
  }
  let worst = 0;
  for (const name of SHAPES.keys()) {
    const expected = readNpy(join(work, `${name}.final.npy`)).toNumbers();
    const actual = current.get(name)!.toNumbers();
    const initial = weights.get(name)!.toNumbers();
    for (let i = 0; i < expected.length; i++) {
      const relative = Math.abs(actual[i]! - expected[i]!) / Math.max(Math.abs(expected[i]!), 1e-3);
      worst = Math.max(worst, relative);
    }
    // the weights moved (a test that could not fail would compare unchanged weights)
    expect(Math.max(...initial.map((w, i) => Math.abs(w - expected[i]!)))).toBeGreaterThan(1e-3);
  }
  const schedules = JSON.parse(readFileSync(join(work, 'schedules.json'), 'utf8')) as Record<'step' | 'cosine', number[]>;
  schedules.step.forEach((lr, i) => expect(learningRateAt({ kind: 'step', stepSize: 6, gamma: 0.5 }, 0.1, i, 20)).toBeCloseTo(lr, 12));
  schedules.cosine.forEach((lr, i) => expect(learningRateAt({ kind: 'cosine' }, 0.1, i, 20)).toBeCloseTo(lr, 12));
  if (process.env.TRAIN_FIGURES) console.log(`FIGURES ${spec.kind} ${JSON.stringify(torchOptions)}: worst relative ${worst.toExponential(2)}`);
  return worst;
}

describe('optimizers against torch.optim on the same weights and gradients', () => {
  it('SGD with momentum and weight decay: within 1e-5 relative after 6 steps', async () => {
    const worst = await compare({ kind: 'sgd', momentum: 0.9, weightDecay: 5e-4 }, { momentum: 0.9, weight_decay: 5e-4 });
    expect(worst).toBeLessThan(1e-5);
  });
  it('plain SGD (no state)', async () => {
    expect(await compare({ kind: 'sgd' }, {})).toBeLessThan(1e-5);
  });
  it('AdamW (bias correction, decoupled weight decay): within 1e-5 relative after 6 steps', async () => {
    const worst = await compare({ kind: 'adamw', betas: [0.9, 0.99], eps: 1e-8, weightDecay: 0.05 }, { betas: [0.9, 0.99], eps: 1e-8, weight_decay: 0.05 });
    expect(worst).toBeLessThan(1e-5);
  });
  it('AdamW with PyTorch defaults', async () => {
    expect(await compare({ kind: 'adamw' }, {})).toBeLessThan(1e-5);
  });
});

describe('schedules', () => {
  it('warm-up rises linearly, then the schedule runs over the remaining steps', () => {
    expect([0, 1, 2, 3].map((s) => learningRateAt({ kind: 'cosine', warmup: 4 }, 0.4, s, 10))).toEqual([0.1, 0.2, 0.30000000000000004, 0.4]);
    expect(learningRateAt({ kind: 'cosine', warmup: 4 }, 0.4, 4, 10)).toBeCloseTo(0.4, 12);
    expect(learningRateAt({ kind: 'linear' }, 0.4, 5, 10)).toBeCloseTo(0.2, 12);
    expect(learningRateAt({ kind: 'constant' }, 0.4, 7, 10)).toBe(0.4);
  });
  it('refuses bad options with the option named', () => {
    expect(() => optimizerRule({ kind: 'adamw', betas: [0.9, 1] })).toThrow(/option 'betas'/);
    expect(() => optimizerRule({ kind: 'sgd', momentum: -1 })).toThrow(/option 'momentum'/);
    expect(() => optimizerRule({ kind: 'rmsprop' } as unknown as OptimizerSpec)).toThrow(/unknown optimizer 'rmsprop'/);
  });
});
