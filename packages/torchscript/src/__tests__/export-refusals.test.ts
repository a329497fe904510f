/**
 * Nodes the TorchScript writer must refuse by name instead of writing an archive that computes something
 * else or that torch cannot run (QA s10, found by writing the ONNX node conformance cases and running them
 * in torch): a ReduceSum whose axes and a Split whose sizes come from a graph input (written as a sum over
 * every axis and as equal chunks: silently wrong), a Dropout in training mode or whose mask is read (written
 * as the identity), BatchNormalization with training_mode=1, an AveragePool that must not count pads wider
 * than half its kernel. An axes input of static shape [0] is empty, so it still reduces every axis.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { attrs, GraphBuilder, ModelpassError, Tensor, tensorType, type Model, type Value } from '@modelpass/ir';
import { writeTorchScript } from '@modelpass/torchscript';

const dir = mkdtempSync(join(tmpdir(), 'modelpass-export-refusals-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function model(opset: number, build: (b: GraphBuilder, x: Value) => Value): Model {
  const b = new GraphBuilder();
  const x = b.input('x', tensorType('float32', [2, 6]));
  b.output(build(b, x));
  return b.model({ onnx: opset });
}

const refused: [string, Model, string][] = [
  ['ReduceSum-13 with axes from a graph input', model(13, (b, x) => b.op1('onnx.ReduceSum', [x, b.input('axes', tensorType('int64', [1]))])), 'computed axes'],
  ['Split-13 with sizes from a graph input', model(13, (b, x) => b.op('onnx.Split', [x, b.input('split', tensorType('int64', [2]))], { axis: attrs.int(1) }, { outputs: 2 })[0]!), 'computed split sizes'],
  ['Dropout with training_mode from a graph input', model(13, (b, x) => b.op1('onnx.Dropout', [x, b.constant(Tensor.scalar('float32', 0.5)), b.input('training', tensorType('bool', []))])), 'training_mode'],
  ['Dropout whose mask is a graph output', model(13, (b, x) => { const [y, mask] = b.op('onnx.Dropout', [x], {}, { outputs: 2 }); b.output(mask!); return y!; }), 'the mask output'],
  [
    'BatchNormalization with training_mode=1',
    model(15, (b, x) => {
      const c = (v: number) => b.constant(Tensor.fromValues('float32', [6], new Array(6).fill(v)));
      return b.op1('onnx.BatchNormalization', [b.op1('onnx.Reshape', [x, b.constant(Tensor.fromValues('int64', [3], [2n, 6n, 1n]))]), c(1), c(0), c(0), c(1)], { training_mode: attrs.int(1) });
    }),
    'training_mode=1',
  ],
  [
    'AveragePool(count_include_pad=0) with pads over half the kernel',
    model(13, (b, x) => b.op1('onnx.AveragePool', [b.op1('onnx.Reshape', [x, b.constant(Tensor.fromValues('int64', [4], [1n, 1n, 2n, 6n]))])], { kernel_shape: attrs.ints([1, 3]), pads: attrs.ints([0, 2, 0, 2]) })),
    'pads over half the kernel with count_include_pad=0',
  ],
];

describe('writeTorchScript refuses what it cannot write faithfully', () => {
  it.each(refused)('%s', (_name, m, reason) => {
    const path = join(dir, 'refused.pt');
    let error: unknown;
    try {
      writeTorchScript(m, path);
    } catch (caught) {
      error = caught;
    }
    expect(ModelpassError.is(error), String(error)).toBe(true);
    expect((error as Error).message).toContain(reason);
  });

  it('an axes input of static shape [0] reduces every axis (written, not refused)', () => {
    expect(() => writeTorchScript(model(13, (b, x) => b.op1('onnx.ReduceSum', [x, b.input('axes', tensorType('int64', [0]))])), join(dir, 'empty-axes.pt'))).not.toThrow();
  });
});
