/**
 * onnx.GRU: a one-layer GRU, gates ordered z (update), r (reset), h (hidden) in W, R and B.
 *
 *   z = f(Xt·Wzᵀ + Ht-1·Rzᵀ + Wbz + Rbz)
 *   r = f(Xt·Wrᵀ + Ht-1·Rrᵀ + Wbr + Rbr)
 *   h = g(Xt·Whᵀ + (r ⊙ Ht-1)·Rhᵀ + Rbh + Wbh)         linear_before_reset = 0
 *   h = g(Xt·Whᵀ + r ⊙ (Ht-1·Rhᵀ + Rbh) + Wbh)         linear_before_reset ≠ 0
 *   Ht = (1 - z) ⊙ h + z ⊙ Ht-1
 */
import { defineCanonicalOp } from '../op-definition.js';
import { addMatVec, initialState, readProblem, recurrentSchema, runRecurrent, type RecurrentKind } from './recurrent.js';

const GRU: RecurrentKind = { gates: 3, defaultActivations: ['Sigmoid', 'Tanh'] };

export const gruOp = defineCanonicalOp({
  op: 'onnx.GRU',
  summary: 'One-layer GRU (forward, reverse or bidirectional), linear_before_reset or not',
  ...recurrentSchema(GRU, { attributes: { linear_before_reset: { kind: 'int', default: 0 } } }),
  kernel(inputs, context) {
    const problem = readProblem(inputs, context, GRU);
    const { node, hidden, inputSize, w, r, b, clip, round } = problem;
    const initialH = initialState(inputs, 5, 'initial_h', context, problem);
    const linearBeforeReset = node.attr('linear_before_reset', 'int', 0) !== 0;
    const rows = 3 * hidden;
    const gates = new Float64Array(rows);
    const linear = new Float64Array(hidden);
    const update = new Float64Array(hidden);
    const reset = new Float64Array(hidden);
    const resetHidden = new Float64Array(hidden);
    return runRecurrent(problem, initialH, undefined, (d, xOffset, state) => {
      const [f, g] = problem.activations[d]!;
      const wBase = d * rows * inputSize;
      const rhBase = d * rows * hidden + 2 * hidden * hidden;
      const bias = d * 2 * rows;
      gates.fill(0);
      addMatVec(gates, 0, rows, w, wBase, inputSize, problem.x, xOffset, round);
      // z and r always see Ht-1; the hidden gate's recurrent product depends on linear_before_reset.
      addMatVec(gates, 0, 2 * hidden, r, d * rows * hidden, hidden, state.h, 0, round);
      for (let j = 0; j < hidden; j++) {
        update[j] = f!(clip(round(gates[j]! + round(b[bias + j]! + b[bias + rows + j]!))));
        const at = hidden + j;
        reset[j] = f!(clip(round(gates[at]! + round(b[bias + at]! + b[bias + rows + at]!))));
      }
      if (linearBeforeReset) {
        linear.fill(0);
        addMatVec(linear, 0, hidden, r, rhBase, hidden, state.h, 0, round);
      } else {
        for (let j = 0; j < hidden; j++) resetHidden[j] = round(reset[j]! * state.h[j]!);
        addMatVec(gates, 2 * hidden, hidden, r, rhBase, hidden, resetHidden, 0, round);
      }
      for (let j = 0; j < hidden; j++) {
        const at = 2 * hidden + j;
        const wbh = b[bias + at]!;
        const rbh = b[bias + rows + at]!;
        const preActivation = linearBeforeReset
          ? round(round(gates[at]! + wbh) + round(reset[j]! * round(linear[j]! + rbh)))
          : round(gates[at]! + round(wbh + rbh));
        const candidate = g!(clip(preActivation));
        const z = update[j]!;
        state.h[j] = round(round(round(1 - z) * candidate) + round(z * state.h[j]!));
      }
    });
  },
});
