/** com.microsoft Inverse: the inverse of each [..., n, n] matrix (ONNX Runtime's contrib op; schema and inference, no reference kernel). */
import { sameAsInput } from '../util/inference.js';
import { defineContribOp, MICROSOFT_DIALECT } from './contrib-op.js';

export const inverseOp = defineContribOp({
  op: `${MICROSOFT_DIALECT}.Inverse`,
  summary: 'Inverse of each square matrix in the last two dims (float16, float, double)',
  inputs: [{ name: 'X' }],
  outputs: [{ name: 'Y' }],
  inferTypes: sameAsInput(0),
});
