/** Recurrent ops of the canonical set: RNN, GRU, LSTM (ONNX semantics, opsets 1 to 22). */
import type { CanonicalOp } from '../op-definition.js';
import { gruOp } from './gru.js';
import { lstmOp } from './lstm.js';
import { rnnOp } from './rnn.js';

export const rnnOps: readonly CanonicalOp[] = [rnnOp, gruOp, lstmOp];

/** Names of the recurrent ops (`onnx.RNN`, `onnx.GRU`, `onnx.LSTM`). */
export function rnnOpNames(): string[] {
  return rnnOps.map((op) => op.schema.op);
}

export { RECURRENT_ACTIVATION_NAMES } from './activations.js';
