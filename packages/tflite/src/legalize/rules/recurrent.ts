/**
 * RNN, GRU and LSTM unrolled over their static sequence length: one FULLY_CONNECTED projects every
 * time step's input at once (X·Wᵀ + Wb + Rb), then each step adds FULLY_CONNECTED(H, R) and applies
 * the gates with their activations (`recurrent-activations.ts`; clip clamps their inputs by MAXIMUM/MINIMUM;
 * LSTM's input_forget sets f = 1 − i), MUL, ADD, SUB. TFLite's UNIDIRECTIONAL_SEQUENCE_LSTM needs
 * variable state tensors and has no GRU counterpart; the unrolled form runs on every runtime and
 * keeps ONNX's gate orders as they are (LSTM i,o,f,c; GRU z,r,h; the weights are sliced, not
 * reordered). Y, Y_h and Y_c are PACKed from the steps in ONNX's layout 0 or 1. With sequence_lens (constant or
 * run-time, int32 [batch]) each step's new state and output are SELECT_V2-ed per batch row: rows past their length
 * keep their state and output 0, and a row of length 0 ends with a state of 0, as ONNX Runtime computes; steps past
 * every constant length are not emitted.
 */
import { Tensor, type Node, type Type, type Value } from '@modelpass/ir';
import { constantOf } from '../constant-values.js';
import type { LoweringRule } from '../lowering-rule.js';
import { replaceNode, staticDims, TfliteEmitter, tensorTypeOf, typeWithShape } from '../lowering-tools.js';
import { emitActivation, recurrentActivations, type RecurrentActivation } from './recurrent-activations.js';

/** Longer static sequences are refused rather than unrolled into a graph of tens of thousands of ops. */
export const MAX_UNROLLED_STEPS = 4096;

interface RecurrentOp {
  readonly op: string;
  readonly gates: number;
  readonly defaultActivations: readonly string[];
}

const KINDS: Record<string, RecurrentOp> = {
  'onnx.RNN': { op: 'RNN', gates: 1, defaultActivations: ['Tanh'] },
  'onnx.GRU': { op: 'GRU', gates: 3, defaultActivations: ['Sigmoid', 'Tanh'] },
  'onnx.LSTM': { op: 'LSTM', gates: 4, defaultActivations: ['Sigmoid', 'Tanh', 'Tanh'] },
};

interface Geometry {
  readonly kind: RecurrentOp;
  readonly layout: 0 | 1;
  readonly steps: number;
  readonly batch: number;
  readonly inputSize: number;
  readonly hidden: number;
  readonly directions: number;
  readonly reverse: readonly boolean[];
  /** Per direction, the activations in the op's order (f, g, h). */
  readonly activations: readonly (readonly RecurrentActivation[])[];
  /** Activation inputs are clamped to [−clip, clip] when given. */
  readonly clip: number | undefined;
}

function geometryOf(node: Node): Geometry | string {
  const kind = KINDS[node.op]!;
  const x = staticDims(node.inputs[0]);
  if (!x || x.length !== 3) return `${kind.op} needs X with a static rank-3 shape to unroll over the sequence`;
  if (tensorTypeOf(node.inputs[0])?.dtype !== 'float32') return `${kind.op} is lowered for float32 X only`;
  const layout = (node.optionalAttr('layout', 'int') ?? 0) as 0 | 1;
  if (layout !== 0 && layout !== 1) return `layout ${String(layout)} is not 0 or 1`;
  const direction = node.optionalAttr('direction', 'string') ?? 'forward';
  const directions = direction === 'bidirectional' ? 2 : 1;
  const reverse = direction === 'bidirectional' ? [false, true] : [direction === 'reverse'];
  const hidden = node.optionalAttr('hidden_size', 'int') ?? staticDims(node.inputs[2])?.[2];
  if (hidden === undefined) return 'needs hidden_size or a constant R';
  const activations = recurrentActivations(node, directions, kind.defaultActivations.length, kind.defaultActivations);
  if (typeof activations === 'string') return activations;
  const clip = node.optionalAttr('clip', 'float');
  if (clip !== undefined && !(clip > 0)) return `clip ${clip} must be positive`;
  const [steps, batch] = layout === 0 ? [x[0]!, x[1]!] : [x[1]!, x[0]!];
  return { kind, layout, steps, batch, inputSize: x[2]!, hidden, directions, reverse, activations, clip };
}

function checkRecurrent(node: Node): string | undefined {
  const geometry = geometryOf(node);
  if (typeof geometry === 'string') return geometry;
  const { kind, directions, hidden, inputSize, steps } = geometry;
  if (steps < 1) return 'the sequence is empty';
  if (steps > MAX_UNROLLED_STEPS) return `a sequence of ${steps} steps is longer than the ${MAX_UNROLLED_STEPS} steps unrolled (every step is a dozen ops)`;
  const expect = (index: number, label: string, shape: number[], required: boolean): string | undefined => {
    const value = node.inputs[index];
    if (!value) return required ? `${label} is missing` : undefined;
    const dims = staticDims(value);
    const dtype = tensorTypeOf(value)?.dtype;
    if (!dims) return `${label} needs a static shape`;
    if (dtype !== 'float32') return `${label} must be float32, not ${dtype ?? 'untyped'}`;
    if (dims.join() !== shape.join()) return `${label} has shape [${dims.join(', ')}]; expected [${shape.join(', ')}]`;
    return undefined;
  };
  const gates = kind.gates;
  const problem =
    expect(1, 'W', [directions, gates * hidden, inputSize], true) ??
    expect(2, 'R', [directions, gates * hidden, hidden], true) ??
    expect(3, 'B', [directions, 2 * gates * hidden], false) ??
    (kind.op === 'LSTM' ? expect(7, 'P (peepholes)', [directions, 3 * hidden], false) : undefined);
  if (problem) return problem;
  const lengths = node.inputs[4];
  if (lengths) {
    const dims = staticDims(lengths);
    if (!dims || dims.join() !== String(geometry.batch)) return `sequence_lens needs the static shape [${geometry.batch}] (one length per batch row)`;
    const dtype = tensorTypeOf(lengths)?.dtype;
    if (dtype !== 'int32') return `sequence_lens must be int32, not ${dtype ?? 'untyped'}`;
    const values = constantOf(lengths)?.toNumbers();
    if (values?.some((v) => v < 0 || v > steps)) return `sequence_lens [${values.join(', ')}] is outside [0, ${steps}] (the sequence length)`;
  }
  const stateShape = geometry.layout === 0 ? [directions, geometry.batch, hidden] : [geometry.batch, directions, hidden];
  for (const [index, label] of [[5, 'initial_h'], [6, 'initial_c']] as const) {
    const value = node.inputs[index];
    if (value && staticDims(value)?.join() !== stateShape.join()) return `${label} needs the static shape [${stateShape.join(', ')}]`;
  }
  return undefined;
}

/** Rows `[from, from + count)` of the leading-dim slice `index` of a constant: `tensor[index][from : from + count]`. */
function slab(tensor: Tensor, index: number, from: number, count: number): Tensor {
  const [, rows, ...rest] = tensor.shape;
  const inner = rest.reduce((n, d) => n * d, 1);
  const values = tensor.toNumbers();
  const start = (index * rows! + from) * inner;
  return Tensor.fromValues('float32', [count, ...rest], values.slice(start, start + count * inner));
}

/** The unrolled cell of one direction, emitting ops before the node. */
class Unroller {
  private readonly none = { fused_activation_function: 'NONE' };
  readonly rowType: (width: number) => Type;

  constructor(
    readonly emit: TfliteEmitter,
    readonly node: Node,
    readonly g: Geometry,
  ) {
    const type = node.input(0).type;
    this.rowType = (width) => typeWithShape(type, [g.batch, width]);
  }

  add(a: Value, b: Value, width: number): Value {
    return this.emit.op1('ADD', [a, b], this.none, this.rowType(width));
  }

  mul(a: Value, b: Value, width: number): Value {
    return this.emit.op1('MUL', [a, b], this.none, this.rowType(width));
  }

  sub(a: Value, b: Value, width: number): Value {
    return this.emit.op1('SUB', [a, b], this.none, this.rowType(width));
  }

  /** `activation(x)`, x clamped to [−clip, clip] first when the op has a clip. */
  activate(activation: RecurrentActivation, x: Value): Value {
    const type = this.rowType(this.g.hidden);
    const clip = this.g.clip;
    if (clip !== undefined) {
      const bound = (value: number, name: string) => this.emit.constant(Tensor.scalar('float32', value), name);
      x = this.emit.op1('MINIMUM', [this.emit.op1('MAXIMUM', [x, bound(-clip, 'clip_low')], {}, type), bound(clip, 'clip_high')], {}, type);
    }
    return emitActivation(this.emit, activation, x, type);
  }

  fullyConnected(x: Value, weights: Value, bias: Value | null, units: number): Value {
    return this.emit.op1('FULLY_CONNECTED', [x, weights, bias], { ...this.none, keep_num_dims: 0 }, this.rowType(units));
  }

  split(x: Value, parts: number): Value[] {
    return this.emit.op('SPLIT', [this.emit.int32([1], [], 'gate_axis'), x], { num_splits: parts }, new Array(parts).fill(this.rowType(this.g.hidden))).outputs.map((v) => v!);
  }

  /** Every step's X·Wᵀ + bias, in time order: one FULLY_CONNECTED over all steps, RESHAPE, UNPACK over time. */
  inputProjections(weights: Value, bias: Value, units: number): Value[] {
    const { steps, batch } = this.g;
    const type = this.node.input(0).type;
    // X given through a [1,0,2] TRANSPOSE (torch's batch_first before a layout-0 node): the rows are
    // projected in the untransposed order, and the UNPACK takes the steps along the other axis (the TRANSPOSE is erased when unread).
    const batchMajorX = batchMajorSource(this.node.input(0));
    const layout = batchMajorX ? 1 - this.g.layout : this.g.layout;
    const flat = this.emit.op1('FULLY_CONNECTED', [batchMajorX ?? this.node.input(0), weights, bias], { ...this.none, keep_num_dims: 0 }, typeWithShape(type, [steps * batch, units]));
    const shaped = layout === 0 ? [steps, batch, units] : [batch, steps, units];
    const cube = this.emit.op1('RESHAPE', [flat, this.emit.int32(shaped, [3], 'steps_shape')], {}, typeWithShape(type, shaped));
    return this.emit.op('UNPACK', [cube], { num: steps, axis: layout === 0 ? 0 : 1 }, new Array(steps).fill(this.rowType(units))).outputs.map((v) => v!);
  }

  /** The initial state of every direction, `[batch, hidden]` each: UNPACKed from a run-time input, sliced from a constant, or zeros. */
  initialStates(input: Value | null): Value[] {
    const { directions, batch, hidden, layout } = this.g;
    if (!input) return Array.from({ length: directions }, (_, d) => this.emit.constant(Tensor.fromValues('float32', [batch, hidden], new Array<number>(batch * hidden).fill(0)), `zero_state_${d}`));
    const constant = constantOf(input);
    if (constant && layout === 0) return Array.from({ length: directions }, (_, d) => this.emit.constant(slab(constant.reshape([directions, batch, hidden]), d, 0, batch), `state_${d}`));
    return this.emit.op('UNPACK', [input], { num: directions, axis: layout === 0 ? 0 : 1 }, new Array(directions).fill(this.rowType(hidden))).outputs.map((v) => v!);
  }
}

interface DirectionResult {
  readonly hs: Value[];
  readonly lastH: Value;
  readonly lastC?: Value;
}

/**
 * Rows of a per-direction operand (W, R: [D, rows, cols]; B, P: [D, n]) as values: cut offline from a
 * constant, or UNPACKed per direction and cut by STRIDED_SLICE at run time (weights given as inputs).
 */
class DirectionRows {
  private unpacked: Value[] | undefined;

  constructor(
    private readonly emit: TfliteEmitter,
    private readonly value: Value,
    private readonly directions: number,
    private readonly label: string,
  ) {}

  rows(d: number, from: number, count: number): Value {
    const name = `${this.label}_${d}_${from}`;
    const tensor = constantOf(this.value);
    if (tensor) return this.emit.constant(slab(tensor, d, from, count), name);
    const [, rows, ...rest] = staticDims(this.value)!;
    this.unpacked ??= this.emit.op('UNPACK', [this.value], { num: this.directions, axis: 0 }, new Array(this.directions).fill(typeWithShape(this.value.type, [rows!, ...rest]))).outputs.map((v) => v!);
    const part = this.unpacked[d]!;
    if (from === 0 && count === rows) return part;
    const rank = rest.length + 1;
    const whole = ((1 << rank) - 1) & ~1;
    return this.emit.op1(
      'STRIDED_SLICE',
      [part, this.emit.int32([from, ...rest.map(() => 0)], [rank], `${name}_begin`), this.emit.int32([from + count, ...rest.map(() => 0)], [rank], `${name}_end`), this.emit.int32(new Array<number>(rank).fill(1), [rank], `${name}_strides`)],
      { begin_mask: whole, end_mask: whole, ellipsis_mask: 0, new_axis_mask: 0, shrink_axis_mask: 0, offset: 0 },
      typeWithShape(this.value.type, [count, ...rest]),
    );
  }
}

/** The input projection's bias (Wb + Rb, less GRU's h-gate Rb when linear_before_reset) and that h-gate bias, offline for a constant B. */
function biases(u: Unroller, d: number, linearBeforeReset: boolean): { input: Value; hGate: Value | null } {
  const { node, g, emit } = u;
  const H = g.hidden;
  const width = g.kind.gates * H;
  const mask = (inputSide: boolean) => Array.from({ length: width }, (_, i) => (!linearBeforeReset || (i < 2 * H) === inputSide ? 1 : 0));
  const given = node.inputs[3];
  const constant = given ? constantOf(given) : Tensor.fromValues('float32', [g.directions, 2 * width], new Array<number>(g.directions * 2 * width).fill(0));
  if (constant) {
    const wb = slab(constant, d, 0, width).toNumbers();
    const rb = slab(constant, d, width, width).toNumbers();
    const [inputMask, hMask] = [mask(true), mask(false)];
    const input = emit.constant(Tensor.fromValues('float32', [width], wb.map((v, i) => v + rb[i]! * inputMask[i]!)), `input_bias_${d}`);
    const hGate = linearBeforeReset ? emit.constant(Tensor.fromValues('float32', [width], rb.map((v, i) => v * hMask[i]!)), `h_bias_${d}`) : null;
    return { input, hGate };
  }
  const rows = new DirectionRows(emit, given!, g.directions, 'b');
  const [wb, rb] = [rows.rows(d, 0, width), rows.rows(d, width, width)];
  const vector = typeWithShape(node.input(0).type, [width]);
  const masked = (values: number[], name: string) => emit.op1('MUL', [rb, emit.constant(Tensor.fromValues('float32', [width], values), name)], { fused_activation_function: 'NONE' }, vector);
  const input = emit.op1('ADD', [wb, linearBeforeReset ? masked(mask(true), `rb_input_mask_${d}`) : rb], { fused_activation_function: 'NONE' }, vector);
  return { input, hGate: linearBeforeReset ? masked(mask(false), `rb_h_mask_${d}`) : null };
}

/**
 * Which batch rows step `t` belongs to, as sequence_lens says (ONNX: a row's steps from its length on give Y = 0 and
 * leave the state as it was; run in reverse, a row starts at its own last step): `all`/`none` when known for every
 * row, else a bool `[batch, 1]` — a constant, or LESS(t, sequence_lens) at run time.
 */
class StepMasks {
  private lengths: Value | undefined;

  constructor(
    private readonly u: Unroller,
    private readonly given: Value | null,
  ) {}

  at(t: number): 'all' | 'none' | Value {
    const { emit, g } = this.u;
    if (!this.given) return 'all';
    const constant = constantOf(this.given)?.toNumbers();
    const rowType = typeWithShape(this.u.node.input(0).type, [g.batch, 1]);
    const boolType = rowType.kind === 'tensor' ? { ...rowType, dtype: 'bool' as const, quant: undefined } : rowType;
    if (constant) {
      const inside = constant.map((length) => t < length);
      if (inside.every(Boolean)) return 'all';
      if (!inside.some(Boolean)) return 'none';
      return emit.constant(Tensor.fromValues('bool', [g.batch, 1], inside), `step_${t}_rows`);
    }
    this.lengths ??= emit.op1('RESHAPE', [this.given, emit.int32([g.batch, 1], [2], 'lengths_shape')], {}, typeWithShape(this.given.type, [g.batch, 1]));
    return emit.op1('LESS', [emit.constant(Tensor.scalar('int32', t), `step_${t}`), this.lengths], {}, boolType);
  }

  /** The rows with a length above 0 (ONNX Runtime gives a row of length 0 a final state of 0, not its initial state). */
  started(): 'all' | Value {
    const { emit, g } = this.u;
    if (!this.given) return 'all';
    const constant = constantOf(this.given)?.toNumbers();
    if (constant) return constant.every((length) => length > 0) ? 'all' : emit.constant(Tensor.fromValues('bool', [g.batch, 1], constant.map((length) => length > 0)), 'started_rows');
    const rowType = typeWithShape(this.u.node.input(0).type, [g.batch, 1]);
    const boolType = rowType.kind === 'tensor' ? { ...rowType, dtype: 'bool' as const, quant: undefined } : rowType;
    this.lengths ??= emit.op1('RESHAPE', [this.given, emit.int32([g.batch, 1], [2], 'lengths_shape')], {}, typeWithShape(this.given.type, [g.batch, 1]));
    return emit.op1('GREATER', [this.lengths, emit.constant(Tensor.scalar('int32', 0), 'no_steps')], {}, boolType);
  }

  /** `value` on the rows step t belongs to, `otherwise` on the rest. */
  choose(mask: Value, value: Value, otherwise: Value): Value {
    return this.u.emit.op1('SELECT_V2', [mask, value, otherwise], {}, value.type);
  }
}

function unrollDirection(u: Unroller, d: number, h0: Value, c0: Value | undefined): DirectionResult {
  const { node, g } = u;
  const H = g.hidden;
  const gates = g.kind.gates;
  const w = new DirectionRows(u.emit, node.input(1), g.directions, 'w');
  const r = new DirectionRows(u.emit, node.input(2), g.directions, 'r');
  const linearBeforeReset = g.kind.op === 'GRU' && (node.optionalAttr('linear_before_reset', 'int') ?? 0) !== 0;
  const bias = biases(u, d, linearBeforeReset);
  const projections = u.inputProjections(w.rows(d, 0, gates * H), bias.input, gates * H);
  // The recurrent weights of this direction, made once and read by every step.
  const recurrentAll = g.kind.op === 'GRU' && !linearBeforeReset ? r.rows(d, 0, 2 * H) : r.rows(d, 0, gates * H);
  const recurrentH = g.kind.op === 'GRU' && !linearBeforeReset ? r.rows(d, 2 * H, H) : undefined;
  const [f, gAct, hAct] = g.activations[d]!;
  const inputForget = (node.optionalAttr('input_forget', 'int') ?? 0) !== 0;
  const order = Array.from({ length: g.steps }, (_, t) => (g.reverse[d] ? g.steps - 1 - t : t));
  const hs = new Array<Value>(g.steps);
  let h = h0;
  let c = c0;
  const peepholes = node.inputs[7] ? new DirectionRows(u.emit, node.input(7), g.directions, 'p') : undefined;
  const peep = peepholes ? [0, 1, 2].map((k) => peepholes.rows(d, k * H, H)) : undefined;
  const masks = new StepMasks(u, node.inputs[4] ?? null);
  let zeros: Value | undefined;
  for (const t of order) {
    const mask = masks.at(t);
    if (mask === 'none') {
      // Past every row's length: the state stays, the output is 0.
      zeros ??= u.emit.constant(Tensor.fromValues('float32', [g.batch, H], new Array<number>(g.batch * H).fill(0)), `zero_output_${d}`);
      hs[t] = zeros;
      continue;
    }
    const [hBefore, cBefore] = [h, c];
    const x = projections[t]!;
    if (g.kind.op === 'RNN') {
      h = u.activate(f!, u.add(x, u.fullyConnected(h, recurrentAll, null, H), H));
    } else if (g.kind.op === 'LSTM') {
      const [xi, xo, xf, xc] = u.split(u.add(x, u.fullyConnected(h, recurrentAll, null, 4 * H), 4 * H), 4);
      const i = u.activate(f!, peep ? u.add(xi!, u.mul(peep[0]!, c!, H), H) : xi!);
      // input_forget couples the gates: f = 1 − i.
      const forget = inputForget ? u.sub(u.emit.constant(Tensor.scalar('float32', 1), 'one'), i, H) : u.activate(f!, peep ? u.add(xf!, u.mul(peep[2]!, c!, H), H) : xf!);
      c = u.add(u.mul(forget, c!, H), u.mul(i, u.activate(gAct!, xc!), H), H);
      const o = u.activate(f!, peep ? u.add(xo!, u.mul(peep[1]!, c, H), H) : xo!);
      h = u.mul(o, u.activate(hAct!, c), H);
    } else {
      const [xz, xr, xh] = u.split(x, 3);
      let z: Value;
      let candidate: Value;
      if (linearBeforeReset) {
        const [hz, hr, hh] = u.split(u.fullyConnected(h, recurrentAll, bias.hGate, 3 * H), 3);
        z = u.activate(f!, u.add(xz!, hz!, H));
        const reset = u.activate(f!, u.add(xr!, hr!, H));
        candidate = u.activate(gAct!, u.add(xh!, u.mul(reset, hh!, H), H));
      } else {
        const [hz, hr] = u.split(u.fullyConnected(h, recurrentAll, null, 2 * H), 2);
        z = u.activate(f!, u.add(xz!, hz!, H));
        const reset = u.activate(f!, u.add(xr!, hr!, H));
        candidate = u.activate(gAct!, u.add(xh!, u.fullyConnected(u.mul(reset, h, H), recurrentH!, null, H), H));
      }
      // (1 − z)·h̃ + z·H = h̃ + z·(H − h̃)
      h = u.add(candidate, u.mul(z, u.sub(h, candidate, H), H), H);
    }
    if (mask !== 'all') {
      zeros ??= u.emit.constant(Tensor.fromValues('float32', [g.batch, H], new Array<number>(g.batch * H).fill(0)), `zero_output_${d}`);
      hs[t] = masks.choose(mask, h, zeros);
      h = masks.choose(mask, h, hBefore);
      if (c && cBefore) c = masks.choose(mask, c, cBefore);
      continue;
    }
    hs[t] = h;
  }
  const started = masks.started();
  if (started !== 'all') {
    zeros ??= u.emit.constant(Tensor.fromValues('float32', [g.batch, H], new Array<number>(g.batch * H).fill(0)), `zero_output_${d}`);
    return { hs, lastH: masks.choose(started, h, zeros), lastC: c ? masks.choose(started, c, zeros) : undefined };
  }
  return { hs, lastH: h, lastC: c };
}

/** `X0` when a recurrence's X is `TRANSPOSE(X0, [1,0,2])` (X in the other layout). */
function batchMajorSource(x: Value): Value | undefined {
  const transpose = x.producer;
  if (transpose?.op !== 'tflite.TRANSPOSE') return undefined;
  const perm = constantOf(transpose.inputs[1])?.toNumbers();
  return perm && perm.length === 3 && perm[0] === 1 && perm[1] === 0 && perm[2] === 2 ? transpose.input(0) : undefined;
}

function pack(emit: TfliteEmitter, values: readonly Value[], axis: number, type: Type): Value {
  return emit.op1('PACK', values, { values_count: values.length, axis }, type);
}

function lowerRecurrent(node: Node, context: Parameters<LoweringRule['lower']>[1]): void {
  const g = geometryOf(node) as Geometry;
  const emit = new TfliteEmitter(node, context);
  const u = new Unroller(emit, node, g);
  const h0 = u.initialStates(node.inputs[5] ?? null);
  const c0 = g.kind.op === 'LSTM' ? u.initialStates(node.inputs[6] ?? null) : undefined;
  const results = Array.from({ length: g.directions }, (_, d) => unrollDirection(u, d, h0[d]!, c0?.[d]));
  const type = node.input(0).type;
  const { steps, batch, hidden, directions, layout } = g;
  const wanted = (index: number): boolean => Boolean(node.outputs[index] && (node.outputs[index]!.hasUses || node.outputs[index]!.isGraphOutput));
  let y: Value | null = null;
  if (wanted(0)) {
    const perDirection = results.map((result) => pack(emit, result.hs, layout === 0 ? 0 : 1, typeWithShape(type, layout === 0 ? [steps, batch, hidden] : [batch, steps, hidden])));
    y = pack(emit, perDirection, layout === 0 ? 1 : 2, typeWithShape(type, layout === 0 ? [steps, directions, batch, hidden] : [batch, steps, directions, hidden]));
  }
  const stateType = typeWithShape(type, layout === 0 ? [directions, batch, hidden] : [batch, directions, hidden]);
  const yH = wanted(1) ? pack(emit, results.map((result) => result.lastH), layout === 0 ? 0 : 1, stateType) : null;
  const yC = wanted(2) ? pack(emit, results.map((result) => result.lastC!), layout === 0 ? 0 : 1, stateType) : null;
  const x = node.input(0);
  replaceNode(node, [y, yH, yC]);
  if (batchMajorSource(x) && !x.hasUses && !x.isGraphOutput) x.producer!.erase();
}

const recurrent: LoweringRule = {
  ops: Object.keys(KINDS),
  stage: 'lower',
  targets: ['FULLY_CONNECTED', 'RESHAPE', 'UNPACK', 'STRIDED_SLICE', 'SPLIT', 'LOGISTIC', 'TANH', 'RELU', 'LEAKY_RELU', 'MUL', 'ADD', 'SUB', 'MINIMUM', 'MAXIMUM', 'PACK', 'LESS', 'GREATER', 'SELECT_V2'],
  check: (node) => checkRecurrent(node),
  lower: lowerRecurrent,
};

export const recurrentRules: readonly LoweringRule[] = [recurrent];
