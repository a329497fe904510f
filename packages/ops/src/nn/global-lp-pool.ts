/** GlobalLpPool: the Lp norm (Σ|x|^p)^(1/p) of each channel over all spatial positions (N, C, 1, …). */
import { tensorType } from '@modelpass/ir';
import { defineCanonicalOp } from '../op-definition.js';
import { readNumbers } from '../util/elements.js';
import { inputTensorType } from '../util/inference.js';
import { inputTensor, opError } from '../util/kernel-io.js';
import { sizeOf } from '../util/shape.js';
import { tensorFromNumbers } from './kernel-helpers.js';

export const globalLpPoolOp = defineCanonicalOp({
  op: 'onnx.GlobalLpPool',
  summary: 'Lp norm over all spatial positions of each channel: (Σ|x|^p)^(1/p)',
  inputs: [{ name: 'X' }],
  outputs: [{ name: 'Y' }],
  attributes: { p: { kind: 'int', default: 2 } },
  inferTypes(context) {
    const type = inputTensorType(context, 0);
    if (!type) return [undefined];
    return [tensorType(type.dtype, type.shape ? [type.shape[0]!, type.shape[1]!, ...type.shape.slice(2).map(() => 1)] : null)];
  },
  kernel(inputs, { node }) {
    const x = inputTensor(inputs, 0, node);
    if (x.rank < 2) throw opError(node, 'X must have a batch and a channel axis', { actual: `rank ${x.rank}` });
    const p = node.attr('p', 'int', 2);
    const planes = x.shape[0]! * x.shape[1]!;
    const size = sizeOf(x.shape.slice(2));
    const data = readNumbers(x);
    const out = new Float64Array(planes);
    for (let plane = 0; plane < planes; plane++) {
      let sum = 0;
      for (let i = 0; i < size; i++) sum += Math.abs(data[plane * size + i]!) ** p;
      out[plane] = sum ** (1 / p);
    }
    return [tensorFromNumbers(x.dtype, [x.shape[0]!, x.shape[1]!, ...x.shape.slice(2).map(() => 1)], out)];
  },
});
