/**
 * onnx.LSTM: a one-layer LSTM, gates ordered i, o, f, c in W, R and B; peepholes P ordered i, o, f.
 *
 *   i = f(Xt·Wiᵀ + Ht-1·Riᵀ + Pi ⊙ Ct-1 + Wbi + Rbi)
 *   f = f(Xt·Wfᵀ + Ht-1·Rfᵀ + Pf ⊙ Ct-1 + Wbf + Rbf)    (1 - i with input_forget=1)
 *   c = g(Xt·Wcᵀ + Ht-1·Rcᵀ + Wbc + Rbc)
 *   Ct = f ⊙ Ct-1 + i ⊙ c
 *   o = f(Xt·Woᵀ + Ht-1·Roᵀ + Po ⊙ Ct + Wbo + Rbo)
 *   Ht = o ⊙ h(Ct)
 *
 * `clip` bounds the inputs of f and g (the gate pre-activations), not Ct before h.
 */
import { defineCanonicalOp } from '../op-definition.js';
import { opError, optionalInputTensor, readNumbers } from '../util/index.js';
import { addMatVec, initialState, readProblem, recurrentSchema, runRecurrent, type RecurrentKind } from './recurrent.js';

const LSTM: RecurrentKind = { gates: 4, defaultActivations: ['Sigmoid', 'Tanh', 'Tanh'] };

/** Gate blocks in W, R and B rows. */
const [I, O, F, C] = [0, 1, 2, 3];

export const lstmOp = defineCanonicalOp({
  op: 'onnx.LSTM',
  summary: 'One-layer LSTM (forward, reverse or bidirectional) with optional peepholes',
  ...recurrentSchema(LSTM, {
    inputs: [
      { name: 'initial_c', optional: true },
      { name: 'P', optional: true },
    ],
    outputs: [{ name: 'Y_c', optional: true }],
    attributes: { input_forget: { kind: 'int', default: 0, oneOf: [0, 1] } },
  }),
  kernel(inputs, context) {
    const problem = readProblem(inputs, context, LSTM);
    const { node, hidden, inputSize, w, r, b, clip, round } = problem;
    const initialH = initialState(inputs, 5, 'initial_h', context, problem);
    const initialC = initialState(inputs, 6, 'initial_c', context, problem);
    const peepholeTensor = optionalInputTensor(inputs, 7, context);
    if (peepholeTensor && (peepholeTensor.dtype !== problem.dtype || peepholeTensor.rank !== 2 || peepholeTensor.shape[0] !== problem.directions || peepholeTensor.shape[1] !== 3 * hidden)) {
      throw opError(node, `input P is ${peepholeTensor.dtype}[${peepholeTensor.shape.join(', ')}]`, { expected: `${problem.dtype}[${problem.directions}, ${3 * hidden}]` });
    }
    const peepholes = peepholeTensor ? readNumbers(peepholeTensor) : new Float64Array(problem.directions * 3 * hidden);
    const inputForget = node.attr('input_forget', 'int', 0) !== 0;
    const rows = 4 * hidden;
    const gates = new Float64Array(rows);
    return runRecurrent(problem, initialH, initialC, (d, xOffset, state) => {
      const [f, g, h] = problem.activations[d]!;
      gates.fill(0);
      addMatVec(gates, 0, rows, w, d * rows * inputSize, inputSize, problem.x, xOffset, round);
      addMatVec(gates, 0, rows, r, d * rows * hidden, hidden, state.h, 0, round);
      const bias = d * 2 * rows;
      const peep = d * 3 * hidden;
      /** Gate `gate`'s pre-activation for unit j: sum + peephole term, plus Wb + Rb. */
      const preActivation = (gate: number, j: number, peepholeTerm: number) => {
        const at = gate * hidden + j;
        return clip(round(round(gates[at]! + peepholeTerm) + round(b[bias + at]! + b[bias + rows + at]!)));
      };
      for (let j = 0; j < hidden; j++) {
        const previousC = state.c[j]!;
        const inputGate = f!(preActivation(I, j, peepholes[peep + j]! * previousC));
        const forgetGate = inputForget ? round(1 - inputGate) : f!(preActivation(F, j, peepholes[peep + 2 * hidden + j]! * previousC));
        const cellGate = g!(preActivation(C, j, 0));
        const c = round(round(forgetGate * previousC) + round(inputGate * cellGate));
        const outputGate = f!(preActivation(O, j, peepholes[peep + hidden + j]! * c));
        state.c[j] = c;
        state.h[j] = round(outputGate * h!(c));
      }
    });
  },
});
