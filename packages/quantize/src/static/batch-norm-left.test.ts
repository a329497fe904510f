import { describe, expect, it } from 'vitest';
import { attrs, GraphBuilder, Tensor, tensorType, type Value } from '@modelpass/ir';
import { whyBatchNormStays } from './batch-norm-left.js';

const ones = (n: number) => Tensor.fromValues('float32', [n], new Array<number>(n).fill(1));

function batchNormAfter(build: (b: GraphBuilder, x: Value) => Value, computedScale = false) {
  const b = new GraphBuilder();
  const x = b.input('x', tensorType('float32', [1, 2, 4, 4]));
  const y = build(b, x);
  const scale = computedScale ? b.op1('onnx.Abs', [b.input('s', tensorType('float32', [2]))]) : b.constant(ones(2), 'scale');
  const bn = b.op1('onnx.BatchNormalization', [y, scale, b.constant(ones(2), 'bias'), b.constant(ones(2), 'mean'), b.constant(ones(2), 'var')], {}, { name: 'bn' });
  b.output(bn);
  return bn.producer!;
}

describe('whyBatchNormStays', () => {
  it('names a producer fuse-bn does not fold into (PaddleOCR det: BatchNormalization after ConvTranspose)', () => {
    const node = batchNormAfter((b, x) => b.op1('onnx.ConvTranspose', [x, b.constant(Tensor.fromValues('float32', [2, 2, 2, 2], new Array<number>(16).fill(0.1)), 'w')], { strides: attrs.ints([2, 2]) }, { name: 'up' }));
    expect(whyBatchNormStays(node)).toBe("it follows ConvTranspose 'up', which fuse-bn folds into only for Conv and Gemm");
  });

  it('says to run simplify only when the parameters are computed', () => {
    expect(whyBatchNormStays(batchNormAfter((b, x) => b.op1('onnx.Relu', [x]), true))).toMatch(/computed: run simplify first/);
  });

  it('names a graph input and a Conv output read by other nodes too', () => {
    expect(whyBatchNormStays(batchNormAfter((_, x) => x))).toBe("it reads graph input 'x', not a Conv or Gemm output");
    const shared = batchNormAfter((b, x) => {
      const conv = b.op1('onnx.Conv', [x, b.constant(Tensor.fromValues('float32', [2, 2, 1, 1], [1, 0, 0, 1]), 'w')], {}, { name: 'conv' });
      b.output(b.op1('onnx.Relu', [conv]));
      return conv;
    });
    expect(whyBatchNormStays(shared)).toMatch(/output of Conv 'conv' is also read by other nodes/);
  });
});
