/**
 * Narrow grouped Convs get fewer, wider groups before quantization (grouped-conv-merge.ts): the rule
 * on RegNet's shapes, the block-diagonal weight giving ORT's float outputs of the original grouped Conv,
 * and quantize-static end to end on a model with a 6-group (→ dense) and an 18-group (→ 3 groups)
 * Conv: group attributes, --debug lines and statistic, ONNX's checker, every QDQ group fused by ORT,
 * and the same quantized outputs as `grouped-convs=keep` (the added weights are zeros, scales unchanged).
 */
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { attrs, parseModel, Tensor, type Model } from '@modelpass/ir';
import { encodeOnnx, writeOnnx } from '@modelpass/onnx';
import { blockDiagonalWeight, mergedGroupCount } from '@modelpass/quantize';
import { OrtRunner, writeNpy } from '@modelpass/runtime';
import { checkWithOnnx, ortFusion, requireReferees, runPipeline } from './static-helpers.js';
import { cosine } from './weights-helpers.js';

const SIDE = 10;

/** Seeded values in [-1, 1) (a fixed LCG), as an IR tensor literal list. */
function values(count: number, seed: number): number[] {
  let state = seed >>> 0;
  return Array.from({ length: count }, () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return Number(((state / 2 ** 32) * 2 - 1).toFixed(4));
  });
}

const literal = (count: number, seed: number) => `[${values(count, seed).join(', ')}]`;

/** x[1,32,10,10] → 1×1 Conv (48) → Relu → 3×3 Conv (6 groups of 8) → Relu → 1×1 Conv (72) → Relu → 3×3 Conv (18 groups of 4) → Relu → 1×1 Conv (8) → y. */
function groupedModel(): Model {
  return parseModel(`model ir_version=8 opsets{onnx=13} {
graph @main(%x: float32[1,32,${SIDE},${SIDE}]) {
  const %w1 = tensor<float32[48,32,1,1]> ${literal(48 * 32, 1)}
  const %b1 = tensor<float32[48]> ${literal(48, 2)}
  const %w2 = tensor<float32[48,8,3,3]> ${literal(48 * 8 * 9, 3)}
  const %b2 = tensor<float32[48]> ${literal(48, 4)}
  const %w3 = tensor<float32[72,48,1,1]> ${literal(72 * 48, 5)}
  const %b3 = tensor<float32[72]> ${literal(72, 6)}
  const %w4 = tensor<float32[72,4,3,3]> ${literal(72 * 4 * 9, 7)}
  const %b4 = tensor<float32[72]> ${literal(72, 8)}
  const %w5 = tensor<float32[8,72,1,1]> ${literal(8 * 72, 10)}
  %c1: float32[1,48,${SIDE},${SIDE}] = onnx.Conv(%x, %w1, %b1) {kernel_shape=[1,1]} name="pw1"
  %r1: float32[1,48,${SIDE},${SIDE}] = onnx.Relu(%c1) name="relu1"
  %c2: float32[1,48,${SIDE},${SIDE}] = onnx.Conv(%r1, %w2, %b2) {group=6, kernel_shape=[3,3], pads=[1,1,1,1]} name="grouped6"
  %r2: float32[1,48,${SIDE},${SIDE}] = onnx.Relu(%c2) name="relu2"
  %c3: float32[1,72,${SIDE},${SIDE}] = onnx.Conv(%r2, %w3, %b3) {kernel_shape=[1,1]} name="pw2"
  %r3: float32[1,72,${SIDE},${SIDE}] = onnx.Relu(%c3) name="relu3"
  %c4: float32[1,72,${SIDE},${SIDE}] = onnx.Conv(%r3, %w4, %b4) {group=18, kernel_shape=[3,3], pads=[1,1,1,1]} name="grouped18"
  %r4: float32[1,72,${SIDE},${SIDE}] = onnx.Relu(%c4) name="relu4"
  %y: float32[1,8,${SIDE},${SIDE}] = onnx.Conv(%r4, %w5) {kernel_shape=[1,1]} name="head"
  return %y
}
}`);
}

/** One input sample (seed 9 is held out; calibration uses seeds 100…). */
const input = (seed = 9) => Tensor.fromValues('float32', [1, 32, SIDE, SIDE], values(32 * SIDE * SIDE, seed).map((v) => v * 2));

/** A folder of 16 calibration samples (.npy) from the same distribution as the evaluated input. */
function calibrationFolder(dir: string): string {
  const folder = join(dir, 'calibration');
  mkdirSync(folder);
  for (let i = 0; i < 16; i++) writeNpy(input(100 + i), join(folder, `sample_${String(i).padStart(2, '0')}.npy`));
  return folder;
}

async function run(model: Model): Promise<number[]> {
  const runner = new OrtRunner({ maxSessions: 1 });
  try {
    return [...(await runner.run(encodeOnnx(model), { x: input() })).values()][0]!.toNumbers();
  } finally {
    await runner.dispose();
  }
}


const groupOf = (model: Model, name: string) => [...model.graph.nodes()].find((node) => node.name === name)!.optionalAttr('group', 'int') ?? 1;

describe('grouped-conv merge', () => {
  it('picks dense for few groups, the smallest merge to 16-wide groups for many, and leaves depthwise and wide groups', () => {
    // regnet_y_400mf's grouped convs (groups of 8 channels)
    expect(mergedGroupCount(6, 48, 48)).toBe(1);
    expect(mergedGroupCount(13, 104, 104)).toBe(1);
    expect(mergedGroupCount(26, 208, 208)).toBe(13);
    expect(mergedGroupCount(55, 440, 440)).toBe(11);
    expect(mergedGroupCount(18, 72, 72)).toBe(3); // 4-wide groups: k=4 does not divide 18, k=6 does
    expect(mergedGroupCount(32, 32, 32)).toBeUndefined(); // depthwise
    expect(mergedGroupCount(32, 32, 64)).toBeUndefined(); // depthwise with a channel multiplier
    expect(mergedGroupCount(4, 64, 64)).toBeUndefined(); // groups already 16 wide
    expect(mergedGroupCount(53, 424, 424)).toBeUndefined(); // no factor ≤ 8 divides 53
    expect(mergedGroupCount(1, 64, 64)).toBeUndefined();
    expect(mergedGroupCount(6, 24, 12)).toBeUndefined(); // dense would have 12 outputs (under 16), and no factor of 6 makes 2-output groups 16 wide
  });

  it('builds block-diagonal weights that give ORT the grouped Conv\'s outputs', async () => {
    requireReferees();
    const model = groupedModel();
    const expected = await run(model);
    for (const [name, after] of [['grouped6', 1], ['grouped18', 3]] as const) {
      const node = [...model.graph.nodes()].find((n) => n.name === name)!;
      const before = node.optionalAttr('group', 'int')!;
      const wide = blockDiagonalWeight(node.inputs[1]!.constant!, before, after);
      expect(wide.shape).toEqual([node.inputs[1]!.constant!.shape[0], (node.inputs[1]!.constant!.shape[1]! * before) / after, 3, 3]);
      node.setInput(1, model.graph.addConstant(model.graph.uniqueName(`${name}_wide`), wide));
      node.setAttribute('group', attrs.int(after));
    }
    expect(groupOf(model, 'grouped6')).toBe(1);
    const actual = await run(model);
    const worst = Math.max(...expected.map((e, i) => Math.abs(e - actual[i]!) / (1 + Math.abs(e))));
    expect(worst).toBeLessThan(1e-4); // float sums in another order
  });

  it('quantize-static merges them (statistic, --debug), ORT fuses every group, and the outputs equal grouped-convs=keep', async () => {
    requireReferees();
    const dir = mkdtempSync(join(tmpdir(), 'quantize-grouped-'));
    const calibration = calibrationFolder(dir);
    const float = await run(groupedModel());
    const merged = groupedModel();
    const debug: string[] = [];
    const statistics = await runPipeline(merged, `quantize-static{dataset=${calibration} samples=16}`, debug);
    expect(statistics['quantize-static']!['grouped-convs-merged']).toBe(2);
    expect(debug).toContainEqual(expect.stringMatching(/merged the 6 groups of Conv 'grouped6' into one dense Conv/));
    expect(debug).toContainEqual(expect.stringMatching(/merged the 18 groups of Conv 'grouped18' into 3 wider groups/));
    expect(groupOf(merged, 'grouped6')).toBe(1);
    expect(groupOf(merged, 'grouped18')).toBe(3);
    const kept = groupedModel();
    const keptStatistics = await runPipeline(kept, `quantize-static{dataset=${calibration} samples=16 grouped-convs=keep}`);
    expect(keptStatistics['quantize-static']!['grouped-convs-merged'] ?? 0).toBe(0);
    expect(groupOf(kept, 'grouped6')).toBe(6);

    const out = join(dir, 'grouped.int8.onnx');
    writeOnnx(merged, out);
    checkWithOnnx(out);
    const fusion = await ortFusion(out);
    expect(fusion.unfused).toEqual([]);
    expect(fusion.ops.filter((op) => op === 'QLinearConv')).toHaveLength(4);

    const [mergedOut, keptOut] = [await run(merged), await run(kept)];
    expect(cosine(mergedOut, float)).toBeGreaterThan(0.99);
    // Same scales and zero points, zeros added to the weights: the integer results agree but for rounding ties.
    expect(cosine(mergedOut, keptOut)).toBeGreaterThan(0.99999);
  });
});
