/**
 * Scatter (opsets 9–10): the deprecated name of ScatterElements without a reduction (opset 11
 * renamed it). Same inference and kernel.
 */
import { defineCanonicalOp } from '../op-definition.js';
import { sameAsInput } from '../util/inference.js';
import { scatterElementsOp } from './gather-scatter.js';

export const scatterOp = defineCanonicalOp({
  op: 'onnx.Scatter',
  summary: 'Deprecated (opset 9–10) ScatterElements: copies data and writes updates along an axis at per-element indices',
  inputs: [{ name: 'data' }, { name: 'indices' }, { name: 'updates' }],
  outputs: [{ name: 'output' }],
  attributes: { axis: { kind: 'int', default: 0 } },
  inferTypes: sameAsInput(0),
  kernel: (inputs, context) => scatterElementsOp.kernel!(inputs, context),
});
