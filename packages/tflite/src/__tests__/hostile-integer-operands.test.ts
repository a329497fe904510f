import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Graph, Model, ModelpassError, Tensor, attrs, tensorType, type DType } from '@modelpass/ir';
import { readTflite, writeTflite } from '@modelpass/tflite';

// QA s15 round 8: a mutated MediaPipe selfie model whose RESIZE_BILINEAR size (or PAD paddings) tensor was
// float32 was read, and raise-tflite died on a raw RangeError ('… cannot be converted to a BigInt'); a pool or conv
// with stride 0 was read and gave NaN dims (a cascade of 'declared …[1,8,1,NaN]' errors).
const dir = mkdtempSync(join(tmpdir(), 'modelpass-tflite-integer-operands-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let counter = 0;
function resizeModel(sizeDtype: DType): string {
  const g = new Graph('main');
  const x = g.addInput('x', tensorType('float32', [1, 4, 4, 3]));
  const size = g.addConstant('size', Tensor.fromValues(sizeDtype, [2], [8, 8]));
  const node = g.createNode({ op: 'tflite.RESIZE_BILINEAR', name: 'resize', inputs: [x, size], outputs: [{ name: 'y', type: tensorType('float32', [1, 8, 8, 3]) }] });
  g.setOutputs([node.output(0)]);
  const model = new Model(g);
  model.opsetImports.set('tflite', 3);
  const path = join(dir, `resize-${counter++}.tflite`);
  writeTflite(model, path);
  return path;
}

describe('index-like operands that are not integers', () => {
  it('refuses a RESIZE_BILINEAR whose size tensor is float32, naming the op, the tensor and its dtype', () => {
    const path = resizeModel('float32');
    let error: unknown;
    try {
      readTflite(path);
    } catch (caught) {
      error = caught;
    }
    expect(ModelpassError.is(error), String(error)).toBe(true);
    const diagnostic = (error as ModelpassError).diagnostics[0]!;
    expect(diagnostic.reason).toBe("RESIZE_BILINEAR's input #1 'size' is a float32 tensor; TFLite reads it as integers");
    expect(diagnostic.expected).toBe('an int32 or int64 tensor');
    expect(diagnostic.location).toMatchObject({ file: path, path: 'subgraph 0/operator 0', op: 'tflite.RESIZE_BILINEAR' });
  });

  it('still reads the int32 size TFLite writes', () => {
    const model = readTflite(resizeModel('int32'));
    expect([...model.graph.nodes()].map((n) => n.op)).toEqual(['tflite.RESIZE_BILINEAR']);
  });
});

describe('window options below 1', () => {
  function poolModel(strideH: number): string {
    const g = new Graph('main');
    const x = g.addInput('x', tensorType('float32', [1, 4, 4, 3]));
    const node = g.createNode({
      op: 'tflite.MAX_POOL_2D',
      name: 'pool',
      inputs: [x],
      outputs: [{ name: 'y', type: tensorType('float32', [1, 2, 2, 3]) }],
      attributes: { padding: attrs.string('VALID'), stride_w: attrs.int(2), stride_h: attrs.int(strideH), filter_width: attrs.int(2), filter_height: attrs.int(2), fused_activation_function: attrs.string('NONE') },
    });
    g.setOutputs([node.output(0)]);
    const model = new Model(g);
    model.opsetImports.set('tflite', 3);
    const path = join(dir, `pool-${counter++}.tflite`);
    writeTflite(model, path);
    return path;
  }

  it('refuses a MAX_POOL_2D with stride_h 0, naming the op and the option (it gave NaN dims before)', () => {
    const path = poolModel(0);
    let error: unknown;
    try {
      readTflite(path);
    } catch (caught) {
      error = caught;
    }
    expect(ModelpassError.is(error), String(error)).toBe(true);
    expect((error as ModelpassError).diagnostics[0]).toMatchObject({
      reason: "MAX_POOL_2D's option stride_h is 0",
      expected: 'a value of 1 or more',
      location: { file: path, path: 'subgraph 0/operator 0', op: 'tflite.MAX_POOL_2D' },
    });
  });

  it('still reads stride 2', () => {
    expect([...readTflite(poolModel(2)).graph.nodes()].map((n) => n.attr('stride_h', 'int'))).toEqual([2]);
  });
});
