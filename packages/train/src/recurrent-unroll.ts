/**
 * LSTM and GRU, unrolled over time into standard ops (MatMul, Add, Mul, Sigmoid, Tanh, Split,
 * Reshape, Concat) before autodiff, so the existing rules differentiate them and ONNX Runtime's
 * inference build runs the training graph. ONNX's equations (Operators.md), gates in ONNX's order
 * (LSTM i, o, f, c; GRU z, r, h), both `linear_before_reset` forms of GRU (PyTorch exports 1),
 * directions forward, reverse and bidirectional, optional B, initial_h and initial_c. The sequence
 * length must be static. `sequence_lens` masks each step: with m = clip(len − t, 0, 1) per batch entry,
 * the state moves only where m = 1 (h ← h + m·(h' − h)), Y is m·h' (zeros past a sequence's end, as
 * ONNX specifies) and Y_h/Y_c are the last valid states (a reverse direction starts at len − 1).
 * Refused with the node named: layout=1, peepholes (P), non-default activations, clip, input_forget.
 */
import { Builder, ModelpassError, type Model, type Node, type Value } from '@modelpass/ir';
import { dtypeCode, GradientContext } from './gradient-context.js';

function unrollError(node: Node, reason: string): ModelpassError {
  return new ModelpassError({ reason: `${node.op.replace('onnx.', '')} '${node.name}': ${reason}`, hint: 'training unrolls LSTM/GRU over time; export the model without this feature', source: '@modelpass/train' });
}

interface Cell {
  readonly gates: number;
  /** Hidden (and, for LSTM, cell) state after one step. */
  step(ctx: GradientContext, xGates: Value, h: Value | null, c: Value | null, r: Value, rb: Value | null): { h: Value; c: Value | null };
}

const sigmoid = (ctx: GradientContext, x: Value) => ctx.op('Sigmoid', [x]);
const tanh = (ctx: GradientContext, x: Value) => ctx.op('Tanh', [x]);
const add = (ctx: GradientContext, a: Value, b: Value | null) => (b ? ctx.op('Add', [a, b]) : a);
const mul = (ctx: GradientContext, a: Value, b: Value) => ctx.op('Mul', [a, b]);

/** Splits `[N, G·H]` into G pieces of `[N, H]`. */
function gateColumns(ctx: GradientContext, x: Value, gates: number, hidden: number): Value[] {
  return ctx.emit('Split', [x, ctx.ints(Array.from({ length: gates }, () => hidden))], { axis: 1 }, gates);
}

function lstmCell(hidden: number): Cell {
  return {
    gates: 4,
    step(ctx, xGates, h, c, r, rb) {
      const recurrent = h ? add(ctx, ctx.op('MatMul', [h, r]), rb) : rb;
      const [i, o, f, g] = gateColumns(ctx, add(ctx, xGates, recurrent), 4, hidden) as [Value, Value, Value, Value];
      const input = mul(ctx, sigmoid(ctx, i), tanh(ctx, g));
      const cell = c ? ctx.op('Add', [mul(ctx, sigmoid(ctx, f), c), input]) : input;
      return { h: mul(ctx, sigmoid(ctx, o), tanh(ctx, cell)), c: cell };
    },
  };
}

function gruCell(hidden: number, linearBeforeReset: boolean): Cell {
  return {
    gates: 3,
    step(ctx, xGates, h, _c, r, rb) {
      const [xz, xr, xh] = gateColumns(ctx, xGates, 3, hidden) as [Value, Value, Value];
      // r is Rᵀ, [H, 3H]: the gates are column blocks
      const [rz, rr, rh] = [0, 1, 2].map((g) => ctx.op('Slice', [r, ctx.ints([g * hidden]), ctx.ints([(g + 1) * hidden]), ctx.ints([1])])) as [Value, Value, Value];
      const [bz, br, bh] = rb ? (gateColumns(ctx, ctx.reshape(rb, [1, 3 * hidden]), 3, hidden) as [Value, Value, Value]) : [null, null, null];
      const z = sigmoid(ctx, add(ctx, add(ctx, xz, h ? ctx.op('MatMul', [h, rz]) : null), bz));
      const reset = sigmoid(ctx, add(ctx, add(ctx, xr, h ? ctx.op('MatMul', [h, rr]) : null), br));
      let candidateInput: Value | null;
      if (!h) candidateInput = linearBeforeReset ? (bh ? mul(ctx, reset, bh) : null) : bh;
      else if (linearBeforeReset) candidateInput = mul(ctx, reset, add(ctx, ctx.op('MatMul', [h, rh]), bh));
      else candidateInput = add(ctx, ctx.op('MatMul', [mul(ctx, reset, h), rh]), bh);
      const candidate = tanh(ctx, add(ctx, xh, candidateInput));
      const keep = ctx.op('Sub', [ctx.scalar(1), z]);
      const next = h ? ctx.op('Add', [mul(ctx, keep, candidate), mul(ctx, z, h)]) : mul(ctx, keep, candidate);
      return { h: next, c: null };
    },
  };
}

/** Pieces of `x` along axis 0 (count known), each reshaped to `rest`. */
function slices(ctx: GradientContext, x: Value, count: number, rest: readonly number[]): Value[] {
  if (count === 1) return [ctx.reshape(x, rest)];
  return ctx.emit('Split', [x, ctx.ints(Array.from({ length: count }, () => 1))], { axis: 0 }, count).map((piece) => ctx.reshape(piece, rest));
}

const DEFAULT_ACTIVATIONS: Record<string, string[]> = { 'onnx.LSTM': ['Sigmoid', 'Tanh', 'Tanh'], 'onnx.GRU': ['Sigmoid', 'Tanh'] };

function unrollNode(model: Model, node: Node): void {
  const x = node.input(0);
  const type = x.type;
  if (node.attr('layout', 'int', 0) !== 0) throw unrollError(node, 'layout=1 is not supported');
  if (node.op === 'onnx.LSTM' && node.inputs[7]) throw unrollError(node, 'peepholes (input P) are not supported');
  if (node.optionalAttr('clip', 'float') !== undefined) throw unrollError(node, 'clip is not supported');
  if (node.attr('input_forget', 'int', 0) !== 0) throw unrollError(node, 'input_forget=1 is not supported');
  const activations = node.optionalAttr('activations', 'strings');
  const defaults = DEFAULT_ACTIVATIONS[node.op]!;
  const direction = node.attr('direction', 'string', 'forward');
  const dirs = direction === 'bidirectional' ? 2 : 1;
  if (activations && activations.join() !== Array.from({ length: dirs }, () => defaults).flat().join()) throw unrollError(node, `activations ${activations.join(',')} are not supported (only ${defaults.join(',')})`);
  if (type.kind !== 'tensor' || type.shape === null || typeof type.shape[0] !== 'number' || typeof type.shape[2] !== 'number') {
    throw unrollError(node, 'the sequence length and input size must be static');
  }
  const [steps, , inputSize] = type.shape as [number, unknown, number];
  const hidden = node.attr('hidden_size', 'int', 0);
  if (!(hidden > 0)) throw unrollError(node, 'hidden_size is missing');
  const ctx = new GradientContext(model, type.dtype, Builder.before(node));
  const cell = node.op === 'onnx.LSTM' ? lstmCell(hidden) : gruCell(hidden, node.attr('linear_before_reset', 'int', 0) === 1);
  const width = cell.gates * hidden;
  const w = slices(ctx, node.input(1), dirs, [width, inputSize]);
  const r = slices(ctx, node.input(2), dirs, [width, hidden]);
  const bias = node.inputs[3] ? slices(ctx, node.inputs[3], dirs, [2 * width]) : null;
  const initialH = node.inputs[5] ? slices(ctx, node.inputs[5], dirs, [-1, hidden]) : null;
  const initialC = node.op === 'onnx.LSTM' && node.inputs[6] ? slices(ctx, node.inputs[6], dirs, [-1, hidden]) : null;
  // sequence_lens as the model's float type, [N, 1]; the mask of step t is clip(len − t, 0, 1) (lengths are integers)
  const lengths = node.inputs[4] ? ctx.reshape(ctx.op('Cast', [node.inputs[4]], { to: dtypeCode(ctx.floatType) }), [-1, 1]) : null;
  const masks = new Map<number, Value>();
  const maskAt = (t: number) => {
    if (!masks.has(t)) masks.set(t, ctx.op('Clip', [ctx.op('Sub', [lengths!, ctx.scalar(t)]), ctx.scalar(0), ctx.scalar(1)]));
    return masks.get(t)!;
  };
  /** The state after a masked step: `next` where the mask is 1, `previous` (zeros when absent) where it is 0. */
  const masked = (mask: Value, next: Value, previous: Value | null) => (previous ? ctx.op('Add', [previous, mul(ctx, mask, ctx.op('Sub', [next, previous]))]) : mul(ctx, mask, next));
  const outputs: Value[][] = [];
  const lastH: Value[] = [];
  const lastC: Value[] = [];
  for (let d = 0; d < dirs; d++) {
    const reverse = direction === 'reverse' || d === 1;
    const [wb, rb] = bias ? (ctx.emit('Split', [bias[d]!, ctx.ints([width, width])], { axis: 0 }, 2) as [Value, Value]) : [null, null];
    // X·Wᵀ + Wb for every step at once: [S, N, G·H]
    const projected = add(ctx, ctx.op('MatMul', [x, ctx.transpose(w[d]!, [1, 0])]), wb);
    const perStep = slices(ctx, projected, steps, [-1, width]);
    const rT = ctx.transpose(r[d]!, [1, 0]);
    let h = initialH?.[d] ?? null;
    let c = initialC?.[d] ?? null;
    const ys: Value[] = new Array<Value>(steps);
    for (let k = 0; k < steps; k++) {
      const t = reverse ? steps - 1 - k : k;
      const next = cell.step(ctx, perStep[t]!, h, c, rT, rb);
      if (lengths) {
        const mask = maskAt(t);
        ys[t] = ctx.reshape(mul(ctx, mask, next.h), [1, 1, -1, hidden]);
        h = masked(mask, next.h, h);
        c = next.c ? masked(mask, next.c, c) : null;
        continue;
      }
      h = next.h;
      c = next.c;
      ys[t] = ctx.reshape(h, [1, 1, -1, hidden]);
    }
    outputs.push(ys);
    lastH.push(ctx.reshape(h!, [1, -1, hidden]));
    if (c) lastC.push(ctx.reshape(c, [1, -1, hidden]));
  }
  const perTime = Array.from({ length: steps }, (_, t) => (dirs === 1 ? outputs[0]![t]! : ctx.op('Concat', [outputs[0]![t]!, outputs[1]![t]!], { axis: 1 })));
  const replace = (index: number, value: () => Value) => {
    const output = node.outputs[index];
    if (output && (output.hasUses || output.isGraphOutput)) output.replaceAllUsesWith(value());
  };
  replace(0, () => (steps === 1 ? perTime[0]! : ctx.op('Concat', perTime, { axis: 0 })));
  replace(1, () => (dirs === 1 ? lastH[0]! : ctx.op('Concat', lastH, { axis: 0 })));
  replace(2, () => (dirs === 1 ? lastC[0]! : ctx.op('Concat', lastC, { axis: 0 })));
  node.erase();
}

/** Unrolls every LSTM and GRU of the main graph in place; returns how many. */
export function unrollRecurrent(model: Model): number {
  const nodes = [...model.graph.nodesOf('onnx.LSTM'), ...model.graph.nodesOf('onnx.GRU')];
  for (const node of nodes) unrollNode(model, node);
  return nodes.length;
}
