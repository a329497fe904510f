/**
 * `aten::gru` / `aten::lstm` (the `torch.gru(input, hx, params, has_biases, num_layers, dropout,
 * train, bidirectional, batch_first)` form) → one ONNX GRU/LSTM per layer, weights regrouped at
 * import: torch's gate order r,z,n (GRU) / i,f,g,o (LSTM) becomes ONNX's z,r,h / i,o,f,c, the two
 * directions stacked, biases [Wb, Rb]; torch's GRU is ONNX's linear_before_reset=1.
 */
import { Tensor, type Value } from '@modelpass/ir';
import type { ScriptValue } from '../script-value.js';
import type { AtenLowering, LoweringContext, TensorValue } from '../lowering.js';
import { dimsOfSizeList } from './python-builtins.js';

type Cell = 'GRU' | 'LSTM';
/** For each ONNX gate slot, the torch gate block it takes. */
const GATE_ORDER: Record<Cell, number[]> = { GRU: [1, 0, 2], LSTM: [0, 3, 1, 2] };

/** A weight of `params`: the archive's constant, or a run-time tensor (a `forward` argument, as our writer makes of ONNX W/R given as graph inputs). */
interface Weight {
  readonly value: TensorValue;
  readonly constant: Tensor | undefined;
  readonly shape: readonly number[];
}

function weightOf(ctx: LoweringContext, value: ScriptValue, what: string): Weight {
  if (value.kind !== 'tensor') return ctx.fail(`${what} must be a tensor`);
  const constant = value.value.constant;
  if (constant) {
    if (constant.dtype !== 'float32') return ctx.fail(`${what} must be float32, got ${constant.dtype}`);
    return { value, constant, shape: constant.shape };
  }
  const shape = value.shape;
  if (!shape || shape.some((dim) => typeof dim !== 'number')) {
    return ctx.fail(`${what} is a run-time tensor of unknown shape`, 'give its shape with --input-shape NAME=DIMS (inputs: { NAME: { shape } } in code): the gate layout is regrouped by rows');
  }
  return { value, constant: undefined, shape: shape as number[] };
}

/** Rows of `tensors` (each [gates*hidden, …]) regrouped in ONNX gate order, directions stacked. */
function regroup(tensors: Tensor[], cell: Cell, hidden: number): Tensor {
  const order = GATE_ORDER[cell];
  const rowLength = tensors[0]!.shape.slice(1).reduce((a, b) => a * b, 1);
  const out: number[] = [];
  for (const tensor of tensors) {
    const values = tensor.toNumbers();
    for (const gate of order) out.push(...values.slice(gate * hidden * rowLength, (gate + 1) * hidden * rowLength));
  }
  return Tensor.fromValues('float32', [tensors.length, ...tensors[0]!.shape], out);
}

/** One direction's [gates*hidden, …] rows in ONNX gate order, computed in the graph (Split → Concat). */
function regroupInGraph(ctx: LoweringContext, weight: Weight, cell: Cell, hidden: number): Value {
  const gates = GATE_ORDER[cell].length;
  const parts = ctx.emitMany('Split', [weight.value.value, ctx.int64Vector(Array.from({ length: gates }, () => hidden))], { axis: 0 }, gates);
  return ctx.emit('Concat', GATE_ORDER[cell].map((gate) => parts[gate]!.value), { axis: 0 }).value;
}

/** Directions stacked on a new leading axis. */
function stackDirections(ctx: LoweringContext, perDirection: Value[]): Value {
  const lifted = perDirection.map((value) => ctx.emit('Unsqueeze', [value, ctx.int64Vector([0])]).value);
  return lifted.length === 1 ? lifted[0]! : ctx.emit('Concat', lifted, { axis: 0 }).value;
}

/** W or R of one layer: [directions, gates*hidden, …]. */
function weightInput(ctx: LoweringContext, weights: Weight[], cell: Cell, hidden: number, name: string): Value {
  if (weights.every((w) => w.constant)) return ctx.builder.constant(regroup(weights.map((w) => w.constant!), cell, hidden), name);
  return stackDirections(ctx, weights.map((w) => regroupInGraph(ctx, w, cell, hidden)));
}

/** B of one layer: [directions, 2*gates*hidden] = [Wb, Rb] per direction. */
function biasInput(ctx: LoweringContext, inputBiases: Weight[], hiddenBiases: Weight[], cell: Cell, hidden: number): Value {
  const directions = inputBiases.length;
  const size = GATE_ORDER[cell].length * hidden;
  if ([...inputBiases, ...hiddenBiases].every((w) => w.constant)) {
    const bIh = regroup(inputBiases.map((w) => w.constant!), cell, hidden).toNumbers();
    const bHh = regroup(hiddenBiases.map((w) => w.constant!), cell, hidden).toNumbers();
    const merged: number[] = [];
    for (let d = 0; d < directions; d++) merged.push(...bIh.slice(d * size, (d + 1) * size), ...bHh.slice(d * size, (d + 1) * size));
    return ctx.builder.constant(Tensor.fromValues('float32', [directions, 2 * size], merged), `${cell}_B`);
  }
  const perDirection = inputBiases.map((bias, d) => ctx.emit('Concat', [regroupInGraph(ctx, bias, cell, hidden), regroupInGraph(ctx, hiddenBiases[d]!, cell, hidden)], { axis: 0 }).value);
  return stackDirections(ctx, perDirection);
}

function lowerRecurrent(cell: Cell): AtenLowering {
  return (ctx) => {
    const x = ctx.tensor(ctx.arg(0), 'input');
    const stateArg = ctx.arg(1, 'hx');
    const params = ctx.arg(2, 'params');
    const hasBiases = ctx.bool(ctx.arg(3, 'has_biases'), 'has_biases');
    const layers = ctx.int(ctx.arg(4, 'num_layers'), 'num_layers');
    if (ctx.bool(ctx.arg(6, 'train'), 'train')) ctx.fail('training mode (dropout between layers) is not supported; save the model in eval mode');
    const bidirectional = ctx.bool(ctx.arg(7, 'bidirectional'), 'bidirectional');
    const batchFirst = ctx.bool(ctx.arg(8, 'batch_first'), 'batch_first');
    if (params.kind !== 'list' && params.kind !== 'tuple') return ctx.fail('params must be a list of weights');
    const directions = bidirectional ? 2 : 1;
    const perDirection = hasBiases ? 4 : 2;
    if (params.items.length !== layers * directions * perDirection) {
      return ctx.fail(`expected ${layers * directions * perDirection} weights for ${layers} layer(s), got ${params.items.length} (projections are not supported)`);
    }
    const states = cell === 'LSTM' ? (stateArg.kind === 'list' || stateArg.kind === 'tuple' ? stateArg.items.map((s, i) => ctx.tensor(s, `hx[${i}]`)) : ctx.fail('hx must be [h0, c0]')) : [ctx.tensor(stateArg, 'hx')];
    const gates = cell === 'GRU' ? 3 : 4;
    let sequence: Value = batchFirst ? ctx.emit('Transpose', [x.value], { perm: [1, 0, 2] }).value : x.value;
    const finals: Value[][] = states.map(() => []);
    for (let layer = 0; layer < layers; layer++) {
      const weights = (offset: number): Weight[] =>
        Array.from({ length: directions }, (_, d) => weightOf(ctx, params.items[(layer * directions + d) * perDirection + offset]!, `layer ${layer} weight ${offset}`));
      const wIh = weights(0);
      const wHh = weights(1);
      const hidden = wHh[0]!.shape[1]!;
      if (wHh[0]!.shape[0] !== gates * hidden) ctx.fail(`weight_hh of layer ${layer} has shape [${wHh[0]!.shape.join(', ')}], expected [${gates * hidden}, ${hidden}]`);
      const w = weightInput(ctx, wIh, cell, hidden, `${cell}_W`);
      const r = weightInput(ctx, wHh, cell, hidden, `${cell}_R`);
      const b: Value | null = hasBiases ? biasInput(ctx, weights(2), weights(3), cell, hidden) : null;
      const initial = states.map((state) => ctx.emit('Slice', [state.value, ctx.int64Vector([layer * directions]), ctx.int64Vector([(layer + 1) * directions]), ctx.int64Vector([0])]).value);
      const attributes = { hidden_size: hidden, direction: bidirectional ? 'bidirectional' : 'forward', ...(cell === 'GRU' ? { linear_before_reset: 1 } : {}) };
      const inputs = cell === 'GRU' ? [sequence, w, r, b, null, initial[0]!] : [sequence, w, r, b, null, initial[0]!, initial[1]!];
      const outputs = ctx.emitMany(cell, inputs, attributes, cell === 'GRU' ? 2 : 3);
      // Y [seq, dirs, batch, hidden] → [seq, batch, dirs*hidden]
      const moved = ctx.emit('Transpose', [outputs[0]!.value], { perm: [0, 2, 1, 3] });
      sequence = ctx.emit('Reshape', [moved.value, ctx.int64Vector([0, 0, -1])]).value;
      outputs.slice(1).forEach((output, i) => finals[i]!.push(output.value));
    }
    const output: TensorValue = batchFirst ? ctx.emit('Transpose', [sequence], { perm: [1, 0, 2] }, { rank: 3, dtype: 'float32' }) : { kind: 'tensor', value: sequence, rank: 3, dtype: 'float32' };
    const stacked = finals.map((parts) => (parts.length === 1 ? { kind: 'tensor' as const, value: parts[0]!, rank: 3, dtype: 'float32' as const } : ctx.emit('Concat', parts, { axis: 0 }, { rank: 3, dtype: 'float32' })));
    return { kind: 'tuple', items: [output, ...stacked] };
  };
}

const DTYPE_CODES: Readonly<Record<number, 'float32' | 'float64' | 'int64' | 'int32' | 'bool'>> = { 6: 'float32', 7: 'float64', 4: 'int64', 3: 'int32', 11: 'bool' };

/** `torch.zeros/ones(size, dtype=…)` → ConstantOfShape. */
function filled(fill: number): AtenLowering {
  return (ctx) => {
    const size = ctx.arg(0, 'size');
    const dtypeArg = ctx.arg(1, 'dtype');
    const dtype = dtypeArg.kind === 'none' ? 'float32' : DTYPE_CODES[ctx.int(dtypeArg, 'dtype')];
    if (!dtype) return ctx.fail(`dtype code ${ctx.int(dtypeArg, 'dtype')} is not supported`);
    const items = size.kind === 'list' || size.kind === 'tuple' ? size.items : ctx.fail('size must be a list');
    let shape: Value;
    if (items.every((item) => item.kind === 'int')) shape = ctx.int64Vector(items.map((item) => ctx.int(item, 'size')));
    else {
      const parts = items.map((item) => (item.kind === 'int' ? ctx.int64Vector([item.value]) : ctx.emit('Unsqueeze', [ctx.tensor(item, 'size').value, ctx.int64Vector([0])]).value));
      shape = ctx.emit('Concat', parts, { axis: 0 }).value;
    }
    const value = dtype === 'int64' ? Tensor.fromValues('int64', [1], [BigInt(fill)]) : dtype === 'bool' ? Tensor.fromValues('bool', [1], [fill !== 0]) : Tensor.fromValues(dtype, [1], [fill]);
    return ctx.emit('ConstantOfShape', [shape], { value }, { rank: items.length, dtype, shape: dimsOfSizeList(items) });
  };
}

export const recurrentLowerings: ReadonlyArray<[string, AtenLowering]> = [
  ['gru', lowerRecurrent('GRU')],
  ['lstm', lowerRecurrent('LSTM')],
  ['zeros', filled(0)],
  ['ones', filled(1)],
  ['device', () => ({ kind: 'str', value: 'cpu' })],
];
