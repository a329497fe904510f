/**
 * The RESHAPE refusal for an output with more than one unknown dim prints those dims as `?` (unknown)
 * or their symbolic names, the IR's `formatDim` (QA s10 R7: PP-OCRv4 rec without --input-shape said
 * "the output shape [,,,] has more than one unknown dim"). A reshape that only inserts or drops 1s is not refused
 * (its target comes from SHAPE at run time, QA s12): the refusal shown is a split of the last axis.
 */
import { describe, expect, it } from 'vitest';
import { GraphBuilder, ModelpassError, Tensor, tensorType } from '@modelpass/ir';
import { createOpRegistry, inferShapes } from '@modelpass/ops';
import { lowerToTflite, registerTfliteDialect } from '@modelpass/tflite';

const registry = registerTfliteDialect(createOpRegistry());

function refusalOf(dims: readonly (number | string | null)[]): string {
  const b = new GraphBuilder();
  const x = b.input('x', tensorType('float32', dims));
  b.output(b.op1('onnx.Reshape', [x, b.constant(Tensor.fromValues('int64', [4], [0n, 0n, 2n, 3n]))], {}, { name: 'reshape' }));
  const model = b.model({ onnx: 13 });
  inferShapes(model, { registry, mode: 'refresh' });
  try {
    lowerToTflite(model, registry);
  } catch (caught) {
    expect(caught).toBeInstanceOf(ModelpassError);
    return (caught as ModelpassError).diagnostics.find((d) => d.location?.node === 'reshape')!.reason;
  }
  throw new Error('expected a refusal');
}

describe('RESHAPE refusal with unknown dims', () => {
  it('prints unknown dims as ?', () => {
    const reason = refusalOf([null, null, 6]);
    expect(reason).toContain('the output shape [?,?,2,3] has more than one unknown dim');
    expect(reason).not.toMatch(/\[[^\]]*,,/);
  });

  it('prints symbolic dims by name', () => {
    expect(refusalOf(['batch', 'time', 6])).toContain('the output shape [batch,time,2,3] has more than one unknown dim');
  });
});

describe('RESHAPE to a run-time shape when a reshape only inserts or drops 1s', () => {
  function lowered(op: 'onnx.Unsqueeze' | 'onnx.Squeeze', dims: readonly (number | string | null)[], axes: number[]): string[] {
    const b = new GraphBuilder();
    const x = b.input('x', tensorType('float32', dims));
    b.output(b.op1(op, [x, b.constant(Tensor.fromValues('int64', [axes.length], axes.map((a) => BigInt(a))))], {}, { name: 'node' }));
    const model = b.model({ onnx: 13 });
    inferShapes(model, { registry, mode: 'refresh' });
    lowerToTflite(model, registry);
    return model.graph.nodeList().map((node) => node.op);
  }

  it('Unsqueeze of [batch, time, 3] reads the batch and time from SHAPE', () => {
    expect(lowered('onnx.Unsqueeze', ['batch', 'time', 3], [2])).toEqual(expect.arrayContaining(['tflite.SHAPE', 'tflite.GATHER', 'tflite.RESHAPE']));
  });

  it('Squeeze of [?, 1, ?, 3] keeps its unknown dims in order', () => {
    expect(lowered('onnx.Squeeze', [null, 1, null, 3], [1])).toEqual(expect.arrayContaining(['tflite.SHAPE', 'tflite.RESHAPE']));
  });

  it('a Squeeze whose squeezed axis is unknown is still refused (it could not be told from a kept one)', () => {
    expect(() => lowered('onnx.Squeeze', [null, null, null, 3], [1])).toThrow(ModelpassError);
  });
});
