/**
 * CenterCropPad (opset 18): each listed axis is cropped or zero-padded around its centre to the
 * given length (the extra element of an odd difference goes to the end, as ONNX's reference does).
 */
import { tensorType, type Dim } from '@modelpass/ir';
import { defineCanonicalOp } from '../op-definition.js';
import { readInts } from '../util/elements.js';
import { constantInts, inputShape, inputTensorType } from '../util/inference.js';
import { inputTensor, opError } from '../util/kernel-io.js';
import { normalizeAxes, sizeOf, stridesOf } from '../util/shape.js';
import { forEachIndex, gatherElements, zeroScalar } from './kernel-helpers.js';

/** The axes CenterCropPad changes: its `axes` attribute, or all of them. */
export function centerCropPadAxes(given: readonly number[] | undefined, rank: number): number[] {
  return given ? given.map((a) => (a < 0 ? a + rank : a)) : Array.from({ length: rank }, (_, i) => i);
}

/** Where the kept part starts in the input (crop) and in the output (pad) along one axis. */
export function centerOffsets(inputLength: number, targetLength: number): { inputStart: number; outputStart: number } {
  if (targetLength <= inputLength) return { inputStart: Math.floor((inputLength - targetLength) / 2), outputStart: 0 };
  return { inputStart: 0, outputStart: Math.floor((targetLength - inputLength) / 2) };
}

export const centerCropPadOp = defineCanonicalOp({
  op: 'onnx.CenterCropPad',
  summary: 'Crops or zero-pads the given axes around their centre to the given lengths',
  inputs: [{ name: 'input_data' }, { name: 'shape' }],
  outputs: [{ name: 'output_data' }],
  attributes: { axes: { kind: 'ints' } },
  inferTypes(context) {
    const type = inputTensorType(context, 0);
    if (!type) return [undefined];
    const shape = inputShape(context, 0);
    const target = constantInts(context, 1);
    if (!shape) return [tensorType(type.dtype, null)];
    const axes = centerCropPadAxes(context.node.optionalAttr('axes', 'ints'), shape.length);
    const out: Dim[] = [...shape];
    axes.forEach((axis, i) => {
      out[axis] = target ? target[i]! : null;
    });
    return [tensorType(type.dtype, out)];
  },
  kernel(inputs, { node }) {
    const x = inputTensor(inputs, 0, node);
    const target = readInts(inputTensor(inputs, 1, node));
    const axes = normalizeAxes(centerCropPadAxes(node.optionalAttr('axes', 'ints'), x.rank), x.rank, node);
    if (target.length !== axes.length) throw opError(node, `the shape input has ${target.length} elements for ${axes.length} axes`, { expected: `${axes.length} lengths` });
    if (target.some((d) => d < 0)) throw opError(node, `negative target length in [${target.join(',')}]`);
    const outShape = [...x.shape];
    axes.forEach((axis, i) => (outShape[axis] = target[i]!));
    const offsets = x.shape.map((dim, axis) => centerOffsets(dim, outShape[axis]!));
    const inStrides = stridesOf(x.shape);
    // Output elements outside the input read a zero appended after the input's elements.
    const zeroTensor = zeroScalar(x.dtype).reshape([1]);
    const map = new Int32Array(sizeOf(outShape));
    const which = new Int32Array(map.length);
    forEachIndex(outShape, (index, flat) => {
      let offset = 0;
      for (let d = 0; d < index.length; d++) {
        const at = index[d]! - offsets[d]!.outputStart + offsets[d]!.inputStart;
        if (at < 0 || at >= x.shape[d]!) {
          which[flat] = 1;
          return;
        }
        offset += at * inStrides[d]!;
      }
      map[flat] = offset;
    });
    return [gatherElements([x, zeroTensor], outShape, map, which)];
  },
});
