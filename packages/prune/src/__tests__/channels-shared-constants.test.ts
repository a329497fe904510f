/**
 * Regression (torchvision's EfficientNet-B0 / MobileNetV3 as exported by torch.onnx 1.13): the
 * exporter deduplicates equal initializers, so the zero biases of the Squeeze-Excitation convs are
 * one constant, read directly by one conv and through `Identity` by the others. prune-channels left
 * 29 of EfficientNet-B0's 41 groups whole ("adds a bias that is not a constant", "constant … is
 * also read by a layer that does not shrink with it"). In miniature: conv1 and conv2 share bias
 * `b`, conv2 through an Identity; the two groups keep different channels, so each conv needs its
 * own slice of `b`. The removed channels are made irrelevant (the next layer reads them with zero
 * weights, their producer rows are tiny), so ONNX Runtime must give the same outputs.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { attrs, GraphBuilder, Tensor, tensorType, type Model } from '@modelpass/ir';
import { decodeOnnx, encodeOnnx } from '@modelpass/onnx';
import { disposeSharedOrtRunner, runOrt } from '@modelpass/runtime';
import { onnxChecker, runPrune } from './channels-harness.js';

afterAll(() => disposeSharedOrtRunner());

const f32 = (shape: number[], values: number[]): Tensor => Tensor.fromValues('float32', shape, values);
const kernel = { kernel_shape: attrs.ints([1, 1]) };

/** conv1 keeps channels {0, 2} (rows 1, 3 tiny), conv2 keeps {1, 2} (rows 0, 3 tiny); both add bias `b`. */
function model(options: { conv2IsOutput?: boolean } = {}): Model {
  const g = new GraphBuilder();
  const x = g.input('x', tensorType('float32', ['N', 2, 3, 3]));
  const b = g.constant(f32([4], [0.1, 0.2, 0.3, 0.4]), 'b');
  const w1 = f32([4, 2, 1, 1], [1, -2, 1e-4, 1e-4, 3, 1, -1e-4, 1e-4]);
  const c1 = g.op1('onnx.Relu', [g.op1('onnx.Conv', [x, g.constant(w1, 'w1'), b], kernel, { name: 'conv1' })]);
  // conv2 reads conv1's channels 1 and 3 with zero weights; its rows 0 and 3 are tiny.
  const w2 = f32([4, 4, 1, 1], [1e-4, 0, 1e-4, 0, 2, 0, -1, 0, 1, 0, 3, 0, 1e-4, 0, -1e-4, 0]);
  const shared = g.op1('onnx.Identity', [b], {}, { name: 'dedup' });
  const c2 = g.op1('onnx.Conv', [c1, g.constant(w2, 'w2'), shared], kernel, { name: 'conv2' });
  // conv3 reads conv2's channels 0 and 3 with zero weights.
  const w3 = f32([2, 4, 1, 1], [0, 1, -2, 0, 0, 0.5, 1, 0]);
  const y = g.op1('onnx.Conv', [g.op1('onnx.Relu', [c2]), g.constant(w3, 'w3')], kernel, { name: 'conv3' });
  g.output(y);
  if (options.conv2IsOutput) g.output(c2);
  return g.model({ onnx: 17 });
}

const input = f32([1, 2, 3, 3], Array.from({ length: 18 }, (_, i) => Math.sin(i + 1)));

async function expectSameOutputs(reference: Model, pruned: Model): Promise<void> {
  const before = await runOrt(reference, { x: input });
  const after = await runOrt(pruned, { x: input });
  for (const [name, expected] of before) {
    const actual = after.get(name)!;
    expect(actual.shape, name).toEqual(expected.shape);
    const e = expected.toNumbers();
    actual.toNumbers().forEach((v, i) => expect(v, `${name}[${i}]`).toBeCloseTo(e[i]!, 5));
  }
}

describe('prune-channels with constants shared by exporters', () => {
  it('looks through Identity and gives each conv its own slice of a shared bias', async () => {
    const m = model();
    const reference = decodeOnnx(encodeOnnx(m));
    const { statistics, result } = await runPrune(m, 'prune-channels{ratio=0.5}');
    expect(result.diagnostics.filter((d) => d.severity === 'warning').map((d) => d.reason)).toEqual([]);
    expect(statistics['groups-pruned']).toBe(2);
    expect(statistics['channels-removed']).toBe(4);
    // w1 8→4, w2 16→4, w3 8→4, and b 4→2 plus its copy for conv2 (4 new elements → 2).
    expect(statistics['parameters-removed']).toBe(4 + 12 + 4 + 2 - 2);
    const conv = (name: string) => [...m.graph.nodes()].find((n) => n.name === name)!;
    expect(conv('conv1').inputs[2]!.constant!.toNumbers()).toEqual([0.1, 0.3].map(Math.fround));
    expect(conv('conv2').inputs[2]!.constant!.toNumbers()).toEqual([0.2, 0.3].map(Math.fround));
    expect([...m.graph.nodes()].some((n) => n.op === 'onnx.Identity')).toBe(false);
    await expectSameOutputs(reference, m);
    expect(onnxChecker(m)).toBe('');
  });

  it('points a copy that was not sliced back at the shared constant', async () => {
    const m = model({ conv2IsOutput: true });
    const reference = decodeOnnx(encodeOnnx(m));
    const { statistics } = await runPrune(m, 'prune-channels{ratio=0.5}');
    expect(statistics['groups-pruned']).toBe(1);
    const conv = (name: string) => [...m.graph.nodes()].find((n) => n.name === name)!;
    expect(conv('conv1').inputs[2]!.constant!.shape).toEqual([2]);
    expect(conv('conv2').inputs[2]!.constant!.shape).toEqual([4]);
    await expectSameOutputs(reference, m);

    const unpruned = model();
    await runPrune(unpruned, 'prune-channels{ratio=0}');
    const b = unpruned.graph.getValue('b')!;
    expect(b.users.map((n) => n.name).sort()).toEqual(['conv1', 'conv2']);
    expect(unpruned.graph.constants.some((c) => c.name.includes('untied'))).toBe(false);
  });
});
