/**
 * CumSum and CumProd: a running sum or product along an axis. `exclusive` writes the running value
 * before the element joins it (starting from the identity), `reverse` runs from the end.
 */
import { defineCanonicalOp, type CanonicalOp } from '../op-definition.js';
import { allocateElements, readElements, readInts, tensorFromElements } from '../util/elements.js';
import { sameAsInput } from '../util/inference.js';
import { inputTensor, opError } from '../util/kernel-io.js';
import { normalizeAxis, sizeOf } from '../util/shape.js';
import { elementClassOf } from './element-class.js';
import { verifyCumulativeAxis } from '../verify/attribute-range-checks.js';

type Scalar = number | bigint;

function defineCumulativeOp(name: string, summary: string, identity: (bigint: boolean) => Scalar, combine: (running: Scalar, value: Scalar) => Scalar): CanonicalOp {
  return defineCanonicalOp({
    op: `onnx.${name}`,
    summary,
    inputs: [{ name: 'x' }, { name: 'axis' }],
    outputs: [{ name: 'y' }],
    attributes: { exclusive: { kind: 'int', default: 0, oneOf: [0, 1] }, reverse: { kind: 'int', default: 0, oneOf: [0, 1] } },
    verify: verifyCumulativeAxis,
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
      const data = readElements(x) as ArrayLike<Scalar>;
      const out = allocateElements(x.dtype, x.size) as unknown as Scalar[];
      const start = identity(cls === 'bigint');
      for (let o = 0; o < outer; o++) {
        for (let i = 0; i < inner; i++) {
          let running = start;
          for (let step = 0; step < length; step++) {
            const index = (o * length + (reverse ? length - 1 - step : step)) * inner + i;
            if (exclusive) out[index] = running;
            running = combine(running, data[index]!);
            if (!exclusive) out[index] = running;
          }
        }
      }
      return [tensorFromElements(x.dtype, x.shape, out as unknown as ArrayLike<number>)];
    },
  });
}

// Mixed number/bigint arithmetic never happens: every element of one tensor has one class.
export const cumSum = defineCumulativeOp('CumSum', 'Cumulative sum along an axis (exclusive and reverse variants)', (big) => (big ? 0n : 0), (a, b) => (a as number) + (b as number));
/** CumProd (opset 26). */
export const cumProd = defineCumulativeOp('CumProd', 'Cumulative product along an axis (exclusive and reverse variants)', (big) => (big ? 1n : 1), (a, b) => (a as number) * (b as number));
