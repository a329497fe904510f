import { defineCanonicalOp } from '../op-definition.js';
import { allocateElements, readElements, readInts, tensorFromElements } from '../util/elements.js';
import { sameAsInput } from '../util/inference.js';
import { inputTensor, opError } from '../util/kernel-io.js';
import { normalizeAxis, sizeOf } from '../util/shape.js';
import { elementClassOf } from './element-class.js';

/** CumProd (opset 26): the running product along an axis, like CumSum (exclusive starts at 1, reverse runs from the end). */
export const cumProd = defineCanonicalOp({
  op: 'onnx.CumProd',
  summary: 'Cumulative product along an axis (exclusive and reverse variants)',
  inputs: [{ name: 'x' }, { name: 'axis' }],
  outputs: [{ name: 'y' }],
  attributes: { exclusive: { kind: 'int', default: 0, oneOf: [0, 1] }, reverse: { kind: 'int', default: 0, oneOf: [0, 1] } },
  inferTypes: sameAsInput(0),
  kernel: (inputs, context) => {
    const x = inputTensor(inputs, 0, context);
    const axisTensor = inputTensor(inputs, 1, context);
    if (axisTensor.size !== 1) throw opError(context.node, 'axis must be a scalar', { actual: `shape [${axisTensor.shape.join(',')}]` });
    const axis = normalizeAxis(readInts(axisTensor)[0]!, x.rank, context.node);
    const exclusive = context.node.attr('exclusive', 'int', 0) === 1;
    const reverse = context.node.attr('reverse', 'int', 0) === 1;
    const cls = elementClassOf(x.dtype);
    if (cls === 'string' || cls === 'bool') throw opError(context.node, `has no reference kernel for element type ${x.dtype}`);
    const outer = sizeOf(x.shape, 0, axis);
    const length = x.shape[axis]!;
    const inner = sizeOf(x.shape, axis + 1);
    const data = readElements(x) as ArrayLike<number | bigint>;
    const out = allocateElements(x.dtype, x.size) as unknown as (number | bigint)[];
    const one = cls === 'bigint' ? 1n : 1;
    for (let o = 0; o < outer; o++) {
      for (let i = 0; i < inner; i++) {
        let product: number | bigint = one;
        for (let step = 0; step < length; step++) {
          const k = reverse ? length - 1 - step : step;
          const index = (o * length + k) * inner + i;
          if (exclusive) out[index] = product;
          product = (product as number) * (data[index]! as number);
          if (!exclusive) out[index] = product;
        }
      }
    }
    return [tensorFromElements(x.dtype, x.shape, out as unknown as ArrayLike<number>)];
  },
});
