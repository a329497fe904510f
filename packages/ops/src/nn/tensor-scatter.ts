/**
 * TensorScatter (opset 24): writes `update` (sequence_length along `axis`) into a copy of
 * `past_cache` (max_sequence_length along `axis`) starting, per batch entry, at `write_indices[b]`
 * (0 when absent); `circular` wraps positions modulo max_sequence_length, `linear` must fit.
 */
import { tensorType } from '@modelpass/ir';
import { defineCanonicalOp } from '../op-definition.js';
import { readInts } from '../util/elements.js';
import { hasInput, inputTensorType } from '../util/inference.js';
import { inputTensor, opError } from '../util/kernel-io.js';
import { normalizeAxis, stridesOf } from '../util/shape.js';
import { forEachIndex, gatherElements } from './kernel-helpers.js';

export const tensorScatterOp = defineCanonicalOp({
  op: 'onnx.TensorScatter',
  summary: 'Writes update into a copy of past_cache along axis at per-batch write_indices (linear or circular)',
  inputs: [{ name: 'past_cache' }, { name: 'update' }, { name: 'write_indices', optional: true }],
  outputs: [{ name: 'present_cache' }],
  attributes: { axis: { kind: 'int', default: -2 }, mode: { kind: 'string', default: 'linear', oneOf: ['linear', 'circular'] } },
  inferTypes(context) {
    const type = inputTensorType(context, 0);
    return [type ? tensorType(type.dtype, type.shape) : undefined];
  },
  kernel(inputs, { node }) {
    const cache = inputTensor(inputs, 0, node);
    const update = inputTensor(inputs, 1, node);
    const axis = normalizeAxis(node.attr('axis', 'int', -2), cache.rank, node);
    if (axis === 0) throw opError(node, 'axis must not be the batch axis 0');
    if (update.rank !== cache.rank || update.shape.some((d, i) => i !== axis && d !== cache.shape[i])) {
      throw opError(node, `update [${update.shape.join(',')}] does not fit past_cache [${cache.shape.join(',')}] outside axis ${axis}`);
    }
    const batch = cache.shape[0]!;
    const starts = hasInput(node, 2) ? readInts(inputTensor(inputs, 2, node)) : new Array<number>(batch).fill(0);
    const circular = node.attr('mode', 'string', 'linear') === 'circular';
    const length = cache.shape[axis]!;
    const strides = stridesOf(cache.shape);
    const map = Int32Array.from({ length: cache.size }, (_, i) => i);
    const which = new Int32Array(cache.size);
    forEachIndex(update.shape, (index, flat) => {
      let position = starts[index[0]!]! + index[axis]!;
      if (circular) position = ((position % length) + length) % length;
      else if (position < 0 || position >= length) throw opError(node, `batch ${index[0]} writes position ${position}, outside the cache's ${length} (mode linear)`);
      let offset = 0;
      for (let d = 0; d < index.length; d++) offset += (d === axis ? position : index[d]!) * strides[d]!;
      map[offset] = flat;
      which[offset] = 1;
    });
    return [gatherElements([cache, update], cache.shape, map, which)];
  },
});
