/**
 * Col2Im (opset 18): the inverse of im2col. Input `[N, C·∏block, L]` holds, for each of the L
 * sliding-block positions, the block's values channel-major; each is added into the image
 * `[N, C, …image_shape]` at its place (strides, dilations, pads; values landing in the padding are
 * dropped, overlapping blocks sum). 2-D and N-D spatial shapes.
 */
import { tensorType, type Dim } from '@modelpass/ir';
import { defineCanonicalOp } from '../op-definition.js';
import { readInts, readNumbers } from '../util/elements.js';
import { constantInts, inputShape, inputTensorType } from '../util/inference.js';
import { inputTensor, opError } from '../util/kernel-io.js';
import { tensorFromNumbers } from './kernel-helpers.js';

export interface Col2ImGeometry {
  readonly image: readonly number[];
  readonly block: readonly number[];
  readonly strides: readonly number[];
  readonly dilations: readonly number[];
  readonly pads: readonly number[];
}

/** Blocks along each spatial axis. */
export function col2ImBlockCounts(g: Col2ImGeometry): number[] {
  return g.image.map((size, i) => Math.floor((size + g.pads[i]! + g.pads[i + g.image.length]! - ((g.block[i]! - 1) * g.dilations[i]! + 1)) / g.strides[i]!) + 1);
}

/**
 * For each (block element k, block position l), k-major: the flat image position it adds into, or
 * -1 when it falls in the padding.
 */
export function col2ImTargets(g: Col2ImGeometry): Int32Array {
  const rank = g.image.length;
  const counts = col2ImBlockCounts(g);
  const blockSize = g.block.reduce((a, b) => a * b, 1);
  const positions = counts.reduce((a, b) => a * b, 1);
  const targets = new Int32Array(blockSize * positions);
  for (let k = 0; k < blockSize; k++) {
    for (let l = 0; l < positions; l++) {
      let flat = 0;
      let inside = true;
      let restK = k;
      let restL = l;
      const coordinate = new Array<number>(rank);
      for (let axis = rank - 1; axis >= 0; axis--) {
        const kernelIndex = restK % g.block[axis]!;
        const blockIndex = restL % counts[axis]!;
        restK = Math.floor(restK / g.block[axis]!);
        restL = Math.floor(restL / counts[axis]!);
        coordinate[axis] = blockIndex * g.strides[axis]! - g.pads[axis]! + kernelIndex * g.dilations[axis]!;
      }
      for (let axis = 0; axis < rank; axis++) {
        if (coordinate[axis]! < 0 || coordinate[axis]! >= g.image[axis]!) inside = false;
        flat = flat * g.image[axis]! + coordinate[axis]!;
      }
      targets[k * positions + l] = inside ? flat : -1;
    }
  }
  return targets;
}

export function col2ImGeometry(node: { optionalAttr: (name: string, kind: 'ints') => readonly number[] | undefined }, image: readonly number[], block: readonly number[]): Col2ImGeometry {
  const rank = image.length;
  return {
    image,
    block,
    strides: node.optionalAttr('strides', 'ints') ?? new Array<number>(rank).fill(1),
    dilations: node.optionalAttr('dilations', 'ints') ?? new Array<number>(rank).fill(1),
    pads: node.optionalAttr('pads', 'ints') ?? new Array<number>(2 * rank).fill(0),
  };
}

export const col2ImOp = defineCanonicalOp({
  op: 'onnx.Col2Im',
  summary: 'Adds sliding blocks [N, C·∏block, L] back into an image [N, C, …image_shape] (inverse of im2col)',
  inputs: [{ name: 'input' }, { name: 'image_shape' }, { name: 'block_shape' }],
  outputs: [{ name: 'output' }],
  attributes: { dilations: { kind: 'ints' }, pads: { kind: 'ints' }, strides: { kind: 'ints' } },
  inferTypes(context) {
    const type = inputTensorType(context, 0);
    if (!type) return [undefined];
    const shape = inputShape(context, 0);
    const image = constantInts(context, 1);
    const block = constantInts(context, 2);
    const columns = shape?.[1];
    const channels: Dim = typeof columns === 'number' && block ? columns / block.reduce((a, b) => a * b, 1) : null;
    if (!image) return [tensorType(type.dtype, null)];
    return [tensorType(type.dtype, [shape?.[0] ?? null, channels, ...image])];
  },
  kernel(inputs, { node }) {
    const x = inputTensor(inputs, 0, node);
    const image = readInts(inputTensor(inputs, 1, node));
    const block = readInts(inputTensor(inputs, 2, node));
    const geometry = col2ImGeometry(node, image, block);
    const blockSize = block.reduce((a, b) => a * b, 1);
    const positions = col2ImBlockCounts(geometry).reduce((a, b) => a * b, 1);
    if (x.rank !== 3 || x.shape[1]! % blockSize !== 0 || x.shape[2] !== positions) {
      throw opError(node, `input [${x.shape.join(',')}] does not hold ${positions} blocks of ${blockSize} elements per channel`, { expected: `[N, C·${blockSize}, ${positions}]` });
    }
    const [n, columns] = [x.shape[0]!, x.shape[1]!];
    const channels = columns / blockSize;
    const pixels = image.reduce((a, b) => a * b, 1);
    const targets = col2ImTargets(geometry);
    const data = readNumbers(x);
    const out = new Float64Array(n * channels * pixels);
    for (let b = 0; b < n; b++) {
      for (let c = 0; c < channels; c++) {
        for (let k = 0; k < blockSize; k++) {
          for (let l = 0; l < positions; l++) {
            const target = targets[k * positions + l]!;
            if (target >= 0) out[(b * channels + c) * pixels + target]! += data[((b * columns) + c * blockSize + k) * positions + l]!;
          }
        }
      }
    }
    return [tensorFromNumbers(x.dtype, [n, channels, ...image], out)];
  },
});
