/**
 * AffineGrid (opset 20): the sampling grid of affine matrices `theta` ([N, 2, 3] for 2-D, [N, 3, 4]
 * for 3-D) over an output of `size` ([N, C, H, W] or [N, C, D, H, W]): each output location's
 * normalized coordinates (x, y[, z], 1), times theta. GridSample reads the result.
 */
import { tensorType, type Dim } from '@modelpass/ir';
import { defineCanonicalOp } from '../op-definition.js';
import { readInts, readNumbers } from '../util/elements.js';
import { constantInts, inputTensorType } from '../util/inference.js';
import { inputTensor, opError } from '../util/kernel-io.js';
import { tensorFromNumbers } from './kernel-helpers.js';

/** The normalized coordinate of position `i` of `length` (−1 … 1; pixel centres unless align_corners). */
export function normalizedCoordinate(i: number, length: number, alignCorners: boolean): number {
  if (alignCorners) return length === 1 ? 0 : -1 + (2 * i) / (length - 1);
  return (2 * i + 1) / length - 1;
}

/**
 * The homogeneous base grid of a spatial shape ([H, W] or [D, H, W]): one row (x, y[, z], 1) per
 * location, x varying fastest.
 */
export function affineBaseGrid(spatial: readonly number[], alignCorners: boolean): number[][] {
  const rows: number[][] = [];
  const count = spatial.reduce((n, d) => n * d, 1);
  for (let flat = 0; flat < count; flat++) {
    const coordinates: number[] = [];
    let rest = flat;
    for (let axis = spatial.length - 1; axis >= 0; axis--) {
      coordinates.push(normalizedCoordinate(rest % spatial[axis]!, spatial[axis]!, alignCorners));
      rest = Math.floor(rest / spatial[axis]!);
    }
    rows.push([...coordinates, 1]);
  }
  return rows;
}

export const affineGridOp = defineCanonicalOp({
  op: 'onnx.AffineGrid',
  summary: 'The GridSample grid of affine matrices theta over an output of the given size',
  inputs: [{ name: 'theta' }, { name: 'size' }],
  outputs: [{ name: 'grid' }],
  attributes: { align_corners: { kind: 'int', default: 0 } },
  inferTypes(context) {
    const type = inputTensorType(context, 0);
    if (!type) return [undefined];
    const size = constantInts(context, 1);
    if (!size) return [tensorType(type.dtype, null)];
    const spatial: Dim[] = size.slice(2);
    return [tensorType(type.dtype, [size[0]!, ...spatial, spatial.length])];
  },
  kernel(inputs, { node }) {
    const theta = inputTensor(inputs, 0, node);
    const size = readInts(inputTensor(inputs, 1, node));
    const spatial = size.slice(2);
    const dims = spatial.length;
    if (dims !== 2 && dims !== 3) throw opError(node, `size [${size.join(',')}] must have 4 or 5 entries`);
    if (theta.rank !== 3 || theta.shape[0] !== size[0] || theta.shape[1] !== dims || theta.shape[2] !== dims + 1) {
      throw opError(node, `theta [${theta.shape.join(',')}] does not fit size [${size.join(',')}]`, { expected: `[${size[0]}, ${dims}, ${dims + 1}]` });
    }
    const matrices = readNumbers(theta);
    const base = affineBaseGrid(spatial, node.attr('align_corners', 'int', 0) === 1);
    const n = size[0]!;
    const out = new Float64Array(n * base.length * dims);
    for (let b = 0; b < n; b++) {
      base.forEach((row, p) => {
        for (let k = 0; k < dims; k++) {
          let sum = 0;
          for (let j = 0; j <= dims; j++) sum += matrices[(b * dims + k) * (dims + 1) + j]! * row[j]!;
          out[(b * base.length + p) * dims + k] = sum;
        }
      });
    }
    return [tensorFromNumbers(theta.dtype, [n, ...spatial, dims], out)];
  },
});
