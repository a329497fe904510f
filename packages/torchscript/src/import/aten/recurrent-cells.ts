/**
 * One time step of a recurrent cell, as `nn.LSTMCell` / `nn.GRUCell` / `nn.RNNCell` call it when
 * scripted (`torch.lstm_cell(input, [h, c], w_ih, w_hh, b_ih, b_hh)`, `gru_cell`, `rnn_tanh_cell`,
 * `rnn_relu_cell`), composed of MatMul/Add/Sigmoid/Tanh with torch's gate order: LSTM i,f,g,o
 * (c' = f·c + i·g, h' = o·tanh c'); GRU r,z,n with the reset gate applied after the hidden
 * projection (n = tanh(W_in x + b_in + r·(W_hn h + b_hn)), h' = n + z·(h − n)). A loop over time that
 * calls the cell is unrolled or becomes an ONNX Loop like any other loop.
 */
import type { ScriptValue } from '../script-value.js';
import { knownShape, type AtenLowering, type LoweringContext, type TensorValue } from '../lowering.js';
import { linearProjection, optionalTensor } from './projection.js';

function add(ctx: LoweringContext, a: TensorValue, b: TensorValue): TensorValue {
  return ctx.emit('Add', [a.value, b.value], {}, { rank: a.rank, dtype: a.dtype });
}
function mul(ctx: LoweringContext, a: TensorValue, b: TensorValue): TensorValue {
  return ctx.emit('Mul', [a.value, b.value], {}, { rank: a.rank, dtype: a.dtype });
}
function unary(ctx: LoweringContext, op: 'Sigmoid' | 'Tanh' | 'Relu', x: TensorValue): TensorValue {
  return ctx.emit(op, [x.value], {}, { rank: x.rank, dtype: x.dtype });
}

/** The gate blocks (each `hidden` wide) of the last axis, in torch's order. */
function gates(ctx: LoweringContext, x: TensorValue, count: number, hidden: number): TensorValue[] {
  return ctx.emitMany('Split', [x.value, ctx.int64Vector(new Array<number>(count).fill(hidden))], { axis: -1 }, count, { rank: x.rank, dtype: x.dtype });
}

interface CellArgs {
  input: TensorValue;
  hidden: ScriptValue;
  /** The hidden size (w_hh is [gates·hidden, hidden]). */
  size: number;
  inputGates: TensorValue;
  hiddenGates: (h: TensorValue) => TensorValue;
}

function cellArgs(ctx: LoweringContext): CellArgs {
  const input = ctx.tensor(ctx.arg(0, 'input'), 'input');
  const weightIh = ctx.tensor(ctx.arg(2, 'w_ih'), 'w_ih');
  const weightHh = ctx.tensor(ctx.arg(3, 'w_hh'), 'w_hh');
  const biasIh = optionalTensor(ctx, ctx.arg(4, 'b_ih'), 'b_ih');
  const biasHh = optionalTensor(ctx, ctx.arg(5, 'b_hh'), 'b_hh');
  const size = knownShape(weightHh)?.[1];
  if (typeof size !== 'number') return ctx.fail('the shape of w_hh is not known while importing');
  return {
    input,
    hidden: ctx.arg(1, 'hx'),
    size,
    inputGates: linearProjection(ctx, input, weightIh, biasIh),
    hiddenGates: (h) => linearProjection(ctx, h, weightHh, biasHh),
  };
}

const lstmCell: AtenLowering = (ctx) => {
  const { hidden, size, inputGates, hiddenGates } = cellArgs(ctx);
  if ((hidden.kind !== 'list' && hidden.kind !== 'tuple') || hidden.items.length !== 2) return ctx.fail('hx must be a list of two tensors [h, c]');
  const h = ctx.tensor(hidden.items[0]!, 'hx[0]');
  const c = ctx.tensor(hidden.items[1]!, 'hx[1]');
  const [i, f, g, o] = gates(ctx, add(ctx, inputGates, hiddenGates(h)), 4, size);
  const cy = add(ctx, mul(ctx, unary(ctx, 'Sigmoid', f!), c), mul(ctx, unary(ctx, 'Sigmoid', i!), unary(ctx, 'Tanh', g!)));
  const hy = mul(ctx, unary(ctx, 'Sigmoid', o!), unary(ctx, 'Tanh', cy));
  return { kind: 'tuple', items: [hy, cy] };
};

const gruCell: AtenLowering = (ctx) => {
  const { hidden, size, inputGates, hiddenGates } = cellArgs(ctx);
  const h = ctx.tensor(hidden, 'hx');
  const [inR, inZ, inN] = gates(ctx, inputGates, 3, size);
  const [hR, hZ, hN] = gates(ctx, hiddenGates(h), 3, size);
  const r = unary(ctx, 'Sigmoid', add(ctx, inR!, hR!));
  const z = unary(ctx, 'Sigmoid', add(ctx, inZ!, hZ!));
  const n = unary(ctx, 'Tanh', add(ctx, inN!, mul(ctx, r, hN!)));
  const difference = ctx.emit('Sub', [h.value, n.value], {}, { rank: h.rank, dtype: h.dtype });
  return add(ctx, n, mul(ctx, z, difference));
};

function rnnCell(activation: 'Tanh' | 'Relu'): AtenLowering {
  return (ctx) => {
    const { hidden, inputGates, hiddenGates } = cellArgs(ctx);
    return unary(ctx, activation, add(ctx, inputGates, hiddenGates(ctx.tensor(hidden, 'hx'))));
  };
}

export const recurrentCellLowerings: ReadonlyArray<[string, AtenLowering]> = [
  ['lstm_cell', lstmCell],
  ['gru_cell', gruCell],
  ['rnn_tanh_cell', rnnCell('Tanh')],
  ['rnn_relu_cell', rnnCell('Relu')],
];
