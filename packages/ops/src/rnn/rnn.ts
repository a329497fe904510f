/**
 * onnx.RNN: a one-layer simple RNN, Ht = f(Xt·Wiᵀ + Ht-1·Riᵀ + Wbi + Rbi), f = Tanh by default.
 */
import { defineCanonicalOp } from '../op-definition.js';
import { addMatVec, initialState, readProblem, recurrentSchema, runRecurrent, type RecurrentKind } from './recurrent.js';

const RNN: RecurrentKind = { gates: 1, defaultActivations: ['Tanh'] };

export const rnnOp = defineCanonicalOp({
  op: 'onnx.RNN',
  summary: 'One-layer simple RNN (forward, reverse or bidirectional)',
  ...recurrentSchema(RNN),
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
