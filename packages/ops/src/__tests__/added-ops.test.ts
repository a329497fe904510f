import { attrs, Graph, GraphBuilder, ModelpassError, Tensor, tensorType, verifyModel } from '@modelpass/ir';
import { createOpRegistry, inferShapes, isRandomOp, kernelFor, runReference } from '@modelpass/ops';
import { describe, expect, it } from 'vitest';

const f32 = (shape: number[], values: number[]) => Tensor.fromValues('float32', shape, values);

describe('losses', () => {
  it('NegativeLogLikelihoodLoss: weighted mean skips ignore_index (numerator and weights)', () => {
    const b = new GraphBuilder();
    const x = b.input('x', tensorType('float32', [2, 3]));
    const target = b.constant(Tensor.fromValues('int64', [2], [2n, -100n]), 'target');
    const weight = b.constant(f32([3], [0.5, 1, 4]), 'weight');
    b.output(b.op1('onnx.NegativeLogLikelihoodLoss', [x, target, weight], { ignore_index: attrs.int(-100) }, { outputs: ['loss'] }));
    const loss = runReference(b.model({ onnx: 13 }), { x: f32([2, 3], [-1, -2, -3, -4, -5, -6]) }).get('loss') as Tensor;
    expect(loss.shape).toEqual([]);
    expect(loss.toNumbers()).toEqual([3]); // (3 * 4) / 4
  });

  it('SoftmaxCrossEntropyLoss: none keeps the label shape; log_prob has the score shape; labels out of range are located errors', () => {
    const b = new GraphBuilder();
    const scores = b.input('scores', tensorType('float32', ['N', 2]));
    const labels = b.input('labels', tensorType('int64', ['N']));
    const [loss, logProb] = b.op('onnx.SoftmaxCrossEntropyLoss', [scores, labels], { reduction: attrs.string('none') }, { outputs: ['loss', 'log_prob'] });
    b.output(loss!, logProb!);
    const model = b.model({ onnx: 13 });
    inferShapes(model);
    expect(loss!.type).toEqual(tensorType('float32', ['N']));
    expect(logProb!.type).toEqual(tensorType('float32', ['N', 2]));
    const result = runReference(model, { scores: f32([1, 2], [0, 0]), labels: Tensor.fromValues('int64', [1], [1n]) });
    expect((result.get('loss') as Tensor).toNumbers()[0]).toBeCloseTo(Math.LN2, 6);
    expect(() => runReference(model, { scores: f32([1, 2], [0, 0]), labels: Tensor.fromValues('int64', [1], [2n]) })).toThrow(/target value 2 is not a class index/);
  });
});

describe('random ops', () => {
  it('have schemas and inference but no kernel; the interpreter says they are not reproducible', () => {
    expect(isRandomOp('onnx.RandomUniformLike')).toBe(true);
    expect(isRandomOp('onnx.Relu')).toBe(false);
    expect(kernelFor('onnx.Bernoulli')).toBeUndefined();
    const b = new GraphBuilder();
    const x = b.input('x', tensorType('float32', [2, 3]));
    const y = b.op1('onnx.Bernoulli', [x], { dtype: attrs.int(7) }, { outputs: ['y'] });
    const z = b.op1('onnx.RandomNormal', [], { shape: attrs.ints([4]) }, { outputs: ['z'] });
    b.output(y, z);
    const model = b.model({ onnx: 15 });
    expect(createOpRegistry().inferNode(y.producer!, model)).toEqual([tensorType('int64', [2, 3])]);
    expect(createOpRegistry().inferNode(z.producer!, model)).toEqual([tensorType('float32', [4])]);
    let error: unknown;
    try {
      runReference(model, { x: f32([2, 3], [0, 0, 0, 1, 1, 1]) });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ModelpassError);
    expect((error as ModelpassError).message).toMatch(/draws random numbers.*not reproducible/);
    expect((error as ModelpassError).location?.op).toBe('onnx.Bernoulli');
    expect(verifyModel(model).filter((d) => d.severity === 'error')).toEqual([]);
  });
});

describe('selection ops', () => {
  it('infer unknown dims where the data decides the length', () => {
    const b = new GraphBuilder();
    const x = b.input('x', tensorType('float32', [3, 4]));
    const condition = b.input('c', tensorType('bool', [4]));
    const compressed = b.op1('onnx.Compress', [x, condition], { axis: attrs.int(1) });
    const [unique, , inverse] = b.op('onnx.Unique', [x], {}, { outputs: 4 });
    b.output(compressed, unique!, inverse!);
    inferShapes(b.model({ onnx: 13 }));
    expect(compressed.type).toEqual(tensorType('float32', [3, null]));
    expect(unique!.type).toEqual(tensorType('float32', [null]));
    expect(inverse!.type).toEqual(tensorType('int64', [12]));
  });
});

describe('Scan', () => {
  /** body(s, x) = (s + x, s + x): running sums. */
  function sumBody(elementShape: number[]): Graph {
    const body = new Graph('body');
    const bb = new GraphBuilder(body);
    const sum = bb.op1('onnx.Add', [bb.input('s', tensorType('float32', elementShape)), bb.input('x', tensorType('float32', elementShape))]);
    bb.output(sum, bb.op1('onnx.Identity', [sum]));
    return body;
  }

  it('opset 8: batch axis first, directions reverse the scan, sequence_lens must cover the sequence', () => {
    const b = new GraphBuilder();
    const lens = b.input('lens', tensorType('int32', [2]));
    const initial = b.input('initial', tensorType('float32', [2, 1]));
    const x = b.input('x', tensorType('float32', [2, 3, 1]));
    const [final, scanned] = b.op('onnx.Scan', [lens, initial, x], { body: attrs.graph(sumBody([1])), num_scan_inputs: attrs.int(1), directions: attrs.ints([1]) }, { outputs: ['final', 'scanned'] });
    b.output(final!, scanned!);
    const model = b.model({ onnx: 8 });
    const feeds = (l: number[]) => ({ lens: Tensor.fromValues('int32', [2], l), initial: f32([2, 1], [0, 100]), x: f32([2, 3, 1], [1, 2, 3, 4, 5, 6]) });
    const result = runReference(model, feeds([3, 3]));
    expect((result.get('final') as Tensor).toNumbers()).toEqual([6, 115]);
    expect((result.get('scanned') as Tensor).toNumbers()).toEqual([3, 5, 6, 106, 111, 115]);
    inferShapes(model);
    expect(scanned!.type).toEqual(tensorType('float32', [2, 3, 1]));
    expect(() => runReference(model, feeds([3, 2]))).toThrow(/sequence_lens shorter than the scan inputs/);
  });
});
