/**
 * MaxUnpool (opset 9/11): the inverse of MaxPool with indices. Zeros of the unpooled shape, each
 * input value written at its flat index (MaxPool's Indices output, flat over N·C·spatial). The shape
 * is `output_shape` when given, else (in − 1)·stride + kernel − pads per spatial dim.
 */
import { tensorType, type Dim } from '@modelpass/ir';
import { defineCanonicalOp } from '../op-definition.js';
import { readInts } from '../util/elements.js';
import { constantInts, hasInput, inputShape, inputTensorType } from '../util/inference.js';
import { inputTensor, opError } from '../util/kernel-io.js';
import { sizeOf } from '../util/shape.js';
import { gatherElements, zeroScalar } from './kernel-helpers.js';

/** The default unpooled spatial length of one axis. */
export function unpooledLength(input: number, kernel: number, stride: number, padBegin: number, padEnd: number): number {
  return (input - 1) * stride + kernel - padBegin - padEnd;
}

function defaultShape(inShape: readonly Dim[], kernel: readonly number[], strides: readonly number[] | undefined, pads: readonly number[] | undefined): Dim[] {
  const spatial = kernel.length;
  return inShape.map((dim, axis) => {
    if (axis < 2) return dim;
    const i = axis - 2;
    return typeof dim === 'number' ? unpooledLength(dim, kernel[i]!, strides?.[i] ?? 1, pads?.[i] ?? 0, pads?.[i + spatial] ?? 0) : null;
  });
}

export const maxUnpoolOp = defineCanonicalOp({
  op: 'onnx.MaxUnpool',
  summary: 'Scatters pooled values back to their MaxPool indices in a zero tensor of the unpooled shape',
  inputs: [{ name: 'X' }, { name: 'I' }, { name: 'output_shape', optional: true }],
  outputs: [{ name: 'output' }],
  attributes: { kernel_shape: { kind: 'ints', required: true }, pads: { kind: 'ints' }, strides: { kind: 'ints' } },
  inferTypes(context) {
    const type = inputTensorType(context, 0);
    if (!type) return [undefined];
    if (hasInput(context.node, 2)) {
      const given = constantInts(context, 2);
      const rank = inputShape(context, 2)?.[0];
      return [tensorType(type.dtype, given ?? (typeof rank === 'number' ? new Array<Dim>(rank).fill(null) : null))];
    }
    const shape = inputShape(context, 0);
    if (!shape) return [tensorType(type.dtype, null)];
    const node = context.node;
    return [tensorType(type.dtype, defaultShape(shape, node.attr('kernel_shape', 'ints'), node.optionalAttr('strides', 'ints'), node.optionalAttr('pads', 'ints')))];
  },
  kernel(inputs, { node }) {
    const x = inputTensor(inputs, 0, node);
    const indices = readInts(inputTensor(inputs, 1, node));
    if (indices.length !== x.size) throw opError(node, `the indices have ${indices.length} elements for ${x.size} values`, { expected: 'I of the same shape as X' });
    const outShape = hasInput(node, 2)
      ? readInts(inputTensor(inputs, 2, node))
      : (defaultShape(x.shape, node.attr('kernel_shape', 'ints'), node.optionalAttr('strides', 'ints'), node.optionalAttr('pads', 'ints')) as number[]);
    if (outShape.length !== x.rank || outShape.some((d) => d < 0)) throw opError(node, `output shape [${outShape.join(',')}] does not fit an input of rank ${x.rank}`);
    const total = sizeOf(outShape);
    const zero = zeroScalar(x.dtype).reshape([1]);
    const map = new Int32Array(total);
    const which = new Int32Array(total).fill(1);
    indices.forEach((target, source) => {
      if (target < 0 || target >= total) throw opError(node, `index ${target} is outside the unpooled tensor of ${total} elements`);
      map[target] = source;
      which[target] = 0;
    });
    return [gatherElements([x, zero], outShape, map, which)];
  },
});
