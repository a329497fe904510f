import { describe, expect, it } from 'vitest';
import { attrs, GraphBuilder, ModelpassError, Tensor, tensorType, type Model } from '@modelpass/ir';
import { createOpRegistry } from '@modelpass/ops';
import { PassEnvironment, PassManager, StatisticsInstrumentation } from '@modelpass/pass-manager';
import { forEachGroup, groupLayout, prunePasses, sparsityReport } from '@modelpass/prune';

/** Deterministic values in (−1, 1) with many exact ties (multiples of 1/64). */
function weights(shape: number[], seed: number): Tensor {
  const size = shape.reduce((n, d) => n * d, 1);
  let state = seed;
  const values = Array.from({ length: size }, () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return (Math.floor((state / 2147483648) * 127) - 63) / 64;
  });
  return Tensor.fromValues('float32', shape, values);
}

/** conv1 (8→16, 3×3) → conv2 (16→16, 3×3, group 2) → convT (16→8) → Flatten → fc1 (Gemm transB, 8·6·6→32) → fc2 (MatMul 32→10). */
function network(): Model {
  const g = new GraphBuilder();
  const x = g.input('x', tensorType('float32', [1, 8, 6, 6]));
  const c1 = g.op1('onnx.Conv', [x, g.constant(weights([16, 8, 3, 3], 1), 'c1w')], { kernel_shape: attrs.ints([3, 3]), pads: attrs.ints([1, 1, 1, 1]) }, { name: 'conv1' });
  const c2 = g.op1('onnx.Conv', [c1, g.constant(weights([16, 8, 3, 3], 2), 'c2w')], { kernel_shape: attrs.ints([3, 3]), pads: attrs.ints([1, 1, 1, 1]), group: attrs.int(2) }, { name: 'conv2' });
  const ct = g.op1('onnx.ConvTranspose', [c2, g.constant(weights([16, 4, 1, 1], 3), 'ctw')], { kernel_shape: attrs.ints([1, 1]), group: attrs.int(2) }, { name: 'convT' });
  const flat = g.op1('onnx.Flatten', [ct], {}, { name: 'flatten' });
  const fc1 = g.op1('onnx.Gemm', [flat, g.constant(weights([32, 288], 4), 'f1w')], { transB: attrs.int(1) }, { name: 'fc1' });
  const fc2 = g.op1('onnx.MatMul', [fc1, g.constant(weights([32, 10], 5), 'f2w')], {}, { name: 'fc2' });
  g.output(fc2);
  return g.model({ onnx: 17 });
}

async function prune(model: Model, pipeline: string): Promise<Record<string, number>> {
  const environment = new PassEnvironment({ ops: createOpRegistry() });
  environment.passes.register(prunePasses, '@modelpass/prune');
  const statistics = new StatisticsInstrumentation();
  await new PassManager({ environment, instrumentations: [statistics] }).run(model, pipeline);
  const totals = statistics.toJSON() as Record<string, Record<string, number>>;
  return Object.assign({}, ...Object.values(totals));
}

const sparsityOf = (model: Model) => Object.fromEntries(sparsityReport(model).layers.map((l) => [l.node, l]));

describe('prune-magnitude', () => {
  it('reaches the exact target per layer (local) and skips the first and last layer', async () => {
    const model = network();
    const before = sparsityOf(model);
    const stats = await prune(model, 'prune-magnitude{sparsity=0.37}');
    const after = sparsityOf(model);
    for (const name of ['conv2', 'convT', 'fc1']) expect(after[name]!.zeros, name).toBe(Math.max(before[name]!.zeros, Math.round(0.37 * after[name]!.elements)));
    expect(after.conv1!.zeros).toBe(before.conv1!.zeros);
    expect(after.fc2!.zeros).toBe(before.fc2!.zeros);
    expect(stats['layers-pruned']).toBe(3);
    expect(stats['layers-skipped']).toBe(2);
  });

  it('zeros exactly the smallest magnitudes: every kept |w| ≥ every zeroed original |w|', async () => {
    const model = network();
    const original = model.graph.getValue('f1w')!.constant!.toNumbers();
    await prune(model, 'prune-magnitude{sparsity=0.5 skip-first-last=false}');
    const pruned = model.graph.getValue('f1w')!.constant!.toNumbers();
    const zeroed = original.filter((v, i) => v !== 0 && pruned[i] === 0).map(Math.abs);
    const kept = pruned.filter((v) => v !== 0).map(Math.abs);
    expect(Math.max(...zeroed)).toBeLessThanOrEqual(Math.min(...kept));
    expect(pruned.filter((v, i) => v !== 0 && v !== original[i])).toEqual([]); // kept weights unchanged
  });

  it('global scope hits the target over all pruned layers together, overrides apart', async () => {
    const model = network();
    await prune(model, 'prune-magnitude{sparsity=0.6 scope=global skip-first-last=false overrides=[fc2:0.1]}');
    const report = sparsityReport(model);
    const ranked = report.layers.filter((l) => l.node !== 'fc2');
    const elements = ranked.reduce((n, l) => n + l.elements, 0);
    expect(ranked.reduce((n, l) => n + l.zeros, 0)).toBe(Math.round(0.6 * elements));
    expect(sparsityOf(model).fc2!.zeros).toBe(Math.round(0.1 * 320));
    expect(new Set(ranked.map((l) => l.sparsity.toFixed(3))).size).toBeGreaterThan(1); // layers differ under a global threshold
  });

  it('is deterministic with ties and gives identical results twice', async () => {
    const a = network();
    const b = network();
    await prune(a, 'prune-magnitude{sparsity=0.5 scope=global}');
    await prune(b, 'prune-magnitude{sparsity=0.5 scope=global}');
    expect(a.graph.getValue('f1w')!.constant!.equals(b.graph.getValue('f1w')!.constant!)).toBe(true);
  });

  it('refuses unknown layer names, malformed overrides and overrides of skipped layers', async () => {
    await expect(prune(network(), 'prune-magnitude{skip=[fc9]}')).rejects.toThrow(/option 'skip' of pass 'prune-magnitude' names 'fc9', which is not a prunable layer/);
    await expect(prune(network(), 'prune-magnitude{overrides=[fc1:1.5]}')).rejects.toThrow(/has the entry 'fc1:1.5'/);
    await expect(prune(network(), 'prune-magnitude{skip=[fc1] overrides=[fc1:0.5]}')).rejects.toThrow(ModelpassError);
    await expect(prune(network(), 'prune-magnitude{sparsity=1.5}')).rejects.toThrow(/expects a number in \[0, 1\]/);
  });
});

describe('prune-nm', () => {
  function expectPattern(model: Model, node: string, n: number, m: number): void {
    const target = [...model.graph.nodes()].find((x) => x.name === node)!;
    const tensor = target.input(1).constant!;
    const values = tensor.toNumbers();
    let groups = 0;
    forEachGroup(groupLayout(target, tensor.shape), m, (indices) => {
      groups++;
      expect(indices.filter((i) => values[i] !== 0).length, `${node} group at ${indices[0]}`).toBeLessThanOrEqual(n);
    });
    expect(groups * m).toBe(values.length);
  }

  it('2:4 gives every group of 4 along the reduction dim at most 2 nonzeros, and keeps the 2 largest', async () => {
    const model = network();
    const original = model.graph.getValue('f1w')!.constant!.toNumbers();
    const stats = await prune(model, 'prune-nm{skip-first-last=false}');
    for (const name of ['conv1', 'conv2', 'convT', 'fc1', 'fc2']) expectPattern(model, name, 2, 4);
    expect(stats['layers-pruned']).toBe(5);
    // fc1 is Gemm with transB: its groups are 4 consecutive elements of a row of [32, 288]
    const pruned = model.graph.getValue('f1w')!.constant!.toNumbers();
    for (let start = 0; start < pruned.length; start += 4) {
      const group = original.slice(start, start + 4).map(Math.abs);
      const kept = pruned.slice(start, start + 4).map(Math.abs).filter((v) => v !== 0);
      const zeroedMax = Math.max(0, ...group.filter((v, j) => pruned[start + j] === 0));
      for (const v of kept) expect(v).toBeGreaterThanOrEqual(zeroedMax);
    }
  });

  it('groups Conv weights along input channels: [M, C/g, kh, kw] groups are C-steps kh·kw apart', () => {
    const model = network();
    const conv2 = [...model.graph.nodesOf('onnx.Conv')][1]!;
    const first: number[][] = [];
    forEachGroup(groupLayout(conv2, [16, 8, 3, 3]), 4, (indices) => void (first.length < 2 && first.push([...indices])));
    expect(first).toEqual([[0, 9, 18, 27], [36, 45, 54, 63]]);
  });

  it('4:8 holds too; a reduction dim that m does not divide is skipped with a warning, or an error when asked', async () => {
    const model = network();
    await prune(model, 'prune-nm{n=4 m=8 skip-first-last=false skip=[convT]}');
    for (const name of ['conv1', 'conv2', 'fc1', 'fc2']) expectPattern(model, name, 4, 8);
    const stats = await prune(network(), 'prune-nm{n=2 m=16 skip-first-last=false}');
    expect(stats['layers-skipped']).toBe(3); // conv1 and conv2 (C/g = 8), convT (8 per group); fc1 (K = 288) and fc2 (K = 32) pruned
    expect(stats['layers-pruned']).toBe(2);
    await expect(prune(network(), 'prune-nm{n=2 m=16 skip-first-last=false indivisible=error}')).rejects.toThrow(
      /node 'conv1' \(onnx\.Conv\).*: cannot be pruned 2:16: its reduction dim \(axis 1\) is 8, not a multiple of m=16/,
    );
    await expect(prune(network(), 'prune-nm{n=5 m=4}')).rejects.toThrow(/option 'n' of pass 'prune-nm' is 5, more than m=4/);
  });
});

describe('nothing to prune', () => {
  it('warns when a model has no prunable weight, with the reason', async () => {
    const g = new GraphBuilder();
    const x = g.input('x', tensorType('float32', [1, 4]));
    const w = g.input('w', tensorType('float32', [4, 2])); // a weight fed at run time is not pruned
    g.output(g.op1('onnx.MatMul', [x, w], {}, { name: 'mm' }));
    const warnings: string[] = [];
    const environment = new PassEnvironment({ ops: createOpRegistry() });
    environment.passes.register(prunePasses, '@modelpass/prune');
    await new PassManager({ environment, onDiagnostic: (d) => void warnings.push(d.reason) }).run(g.model({ onnx: 17 }), 'prune-magnitude,prune-nm');
    expect(warnings).toEqual([
      'prune-magnitude: nothing to prune: no Conv/ConvTranspose/Gemm/MatMul reads a constant float weight (quantized or computed weights are left alone)',
      'prune-nm: nothing to prune: no Conv/ConvTranspose/Gemm/MatMul reads a constant float weight (quantized or computed weights are left alone)',
    ]);
  });
});

describe('weights in Constant nodes (tf2onnx/paddle2onnx exports)', () => {
  it('every pruning pass warns that it pruned nothing and hints to run simplify first', async () => {
    const g = new GraphBuilder();
    const x = g.input('x', tensorType('float32', [1, 3, 8, 8]));
    const w1 = g.op1('onnx.Constant', [], { value: attrs.tensor(weights([8, 3, 3, 3], 1)) });
    const w2 = g.op1('onnx.Constant', [], { value: attrs.tensor(weights([4, 8, 3, 3], 2)) });
    const c1 = g.op1('onnx.Conv', [x, w1], { pads: attrs.ints([1, 1, 1, 1]) }, { name: 'c1' });
    const r = g.op1('onnx.Relu', [c1]);
    g.output(g.op1('onnx.Conv', [r, w2], { pads: attrs.ints([1, 1, 1, 1]) }, { name: 'c2' }));
    const diagnostics: { reason: string; hint?: string | undefined }[] = [];
    const environment = new PassEnvironment({ ops: createOpRegistry() });
    environment.passes.register(prunePasses, '@modelpass/prune');
    const manager = new PassManager({ environment, onDiagnostic: (d) => void diagnostics.push({ reason: d.reason, hint: d.hint }) });
    await manager.run(g.model({ onnx: 17 }), 'prune-magnitude{skip-first-last=false},prune-channels{ratio=0.5}');
    const nothing = diagnostics.filter((d) => /nothing (to prune|pruned)/.test(d.reason));
    expect(nothing.map((d) => d.reason.split(':')[0])).toEqual(['prune-magnitude', 'prune-channels']);
    for (const d of nothing) expect(d.hint).toMatch(/holds 2 value\(s\) in Constant nodes.*run simplify first/);
  });
});

describe('other float dtypes', () => {
  it('prunes float16 weights in place (kept halves bit-identical) and keeps the dtype', async () => {
    const g = new GraphBuilder();
    const x = g.input('x', tensorType('float16', [1, 8]));
    const values = Array.from({ length: 64 }, (_, i) => ((i * 37) % 64) / 32 - 1);
    const w = g.constant(Tensor.fromValues('float16', [8, 8], values), 'w');
    g.output(g.op1('onnx.MatMul', [x, w], {}, { name: 'mm' }));
    const model = g.model({ onnx: 17 });
    const before = model.graph.getValue('w')!.constant!;
    await prune(model, 'prune-nm{skip-first-last=false}');
    const after = model.graph.getValue('w')!.constant!;
    expect(after.dtype).toBe('float16');
    const a = before.toNumbers();
    const b = after.toNumbers();
    expect(b.filter((v) => v === 0).length).toBe(32);
    expect(b.every((v, i) => v === 0 || v === a[i])).toBe(true);
    expect(sparsityOf(model).mm!.sparsity).toBe(0.5);
  });
});
