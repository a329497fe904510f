/**
 * RMSNormalization (opset 23): y = x / sqrt(mean(x², axes from `axis` on) + epsilon) · scale, the
 * statistics in float64 and the result rounded once to the input's dtype.
 */
import { defineCanonicalOp } from '../op-definition.js';
import { readNumbers } from '../util/elements.js';
import { sameAsInput } from '../util/inference.js';
import { inputTensor } from '../util/kernel-io.js';
import { broadcastIndexMap, normalizeAxis, sizeOf } from '../util/shape.js';
import { tensorFromNumbers } from './kernel-helpers.js';

export const rmsNormalizationOp = defineCanonicalOp({
  op: 'onnx.RMSNormalization',
  summary: 'Divides by the root mean square over the axes from `axis` to the last, then scales',
  inputs: [{ name: 'X' }, { name: 'scale' }],
  outputs: [{ name: 'Y' }],
  attributes: { axis: { kind: 'int', default: -1 }, epsilon: { kind: 'float', default: 1e-5 }, stash_type: { kind: 'int', default: 1 } },
  inferTypes: sameAsInput(0),
  kernel(inputs, { node }) {
    const x = inputTensor(inputs, 0, node);
    const scaleTensor = inputTensor(inputs, 1, node);
    const axis = normalizeAxis(node.attr('axis', 'int', -1), x.rank, node);
    const epsilon = node.attr('epsilon', 'float', 1e-5);
    const normalizedShape = x.shape.slice(axis);
    const count = sizeOf(normalizedShape);
    const rows = sizeOf(x.shape.slice(0, axis));
    const scale = readNumbers(scaleTensor);
    const scaleMap = broadcastIndexMap(scaleTensor.shape, normalizedShape);
    const data = readNumbers(x);
    const out = new Float64Array(x.size);
    for (let r = 0; r < rows; r++) {
      let squares = 0;
      for (let i = 0; i < count; i++) squares += data[r * count + i]! ** 2;
      const inverse = 1 / Math.sqrt(squares / count + epsilon);
      for (let i = 0; i < count; i++) out[r * count + i] = data[r * count + i]! * inverse * scale[scaleMap[i]!]!;
    }
    return [tensorFromNumbers(x.dtype, x.shape, out)];
  },
});
