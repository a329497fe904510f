/**
 * onnx.RNN: a one-layer simple RNN, Ht = f(Xt·Wiᵀ + Ht-1·Riᵀ + Wbi + Rbi), f = Tanh by default.
 */
import { defineCanonicalOp } from '../op-definition.js';
import { addMatVec, initialState, readProblem, recurrentAttributes, recurrentInference, runRecurrent, type RecurrentKind } from './recurrent.js';

const RNN: RecurrentKind = { gates: 1, defaultActivations: ['Tanh'] };

export const rnnOp = defineCanonicalOp({
  op: 'onnx.RNN',
  summary: 'One-layer simple RNN (forward, reverse or bidirectional)',
  inputs: [
    { name: 'X' },
    { name: 'W' },
    { name: 'R' },
    { name: 'B', optional: true },
    { name: 'sequence_lens', optional: true },
    { name: 'initial_h', optional: true },
  ],
  outputs: [
    { name: 'Y', optional: true },
    { name: 'Y_h', optional: true },
  ],
  attributes: recurrentAttributes,
  inferTypes: recurrentInference(RNN),
  kernel(inputs, context) {
    const problem = readProblem(inputs, context, RNN);
    const { hidden, inputSize, w, r, b, clip, round } = problem;
    const initialH = initialState(inputs, 5, 'initial_h', context, problem);
    const sums = new Float64Array(hidden);
    return runRecurrent(problem, initialH, undefined, (d, xOffset, state) => {
      const [f] = problem.activations[d]!;
      const bias = d * 2 * hidden;
      sums.fill(0);
      addMatVec(sums, 0, hidden, w, d * hidden * inputSize, inputSize, problem.x, xOffset, round);
      for (let j = 0; j < hidden; j++) sums[j] = round(sums[j]! + round(b[bias + j]! + b[bias + hidden + j]!));
      addMatVec(sums, 0, hidden, r, d * hidden * hidden, hidden, state.h, 0, round);
      for (let j = 0; j < hidden; j++) state.h[j] = f!(clip(sums[j]!));
    });
  },
});
