/**
 * What RNN, GRU and LSTM share: attributes, type inference, reading and checking the operands, and
 * the driver that walks every direction, batch entry and time step and writes Y / Y_h / Y_c.
 *
 * Numerics follow a float32 implementation such as ONNX Runtime's CPU kernels: every sum, product
 * and activation is rounded to float32 (float32, float16 and bfloat16 tensors; float64 tensors are
 * not rounded). The matrix-vector products accumulate in input order, each multiply-add rounded
 * once (fused). Measured against ONNX Runtime this agrees better than float64 accumulation when
 * pre-activations are sums of large, cancelling terms (the Silero VAD decoder feeds its LSTM
 * inputs near 1e4): float64 accumulation is closer to the exact value but differs from ORT by up to
 * 2.5e-5 on such cases, float32 accumulation by about 1e-6.
 */
import { tensorType, type AttributeSpec, type DType, type Dim, type InferenceContext, type Node, type OperandSpec, type OpSchemaInit, type Tensor, type TypeInference } from '@modelpass/ir';
import type { KernelContext, RuntimeValue } from '../op-definition.js';
import { allocateElements, inputTensor, inputTensorType, opError, optionalInputTensor, readInts, readNumbers, staticDim, tensorFromElements } from '../util/index.js';
import { resolveActivations, type Activation } from './activations.js';
import { verifyRecurrentWeights } from '../verify/operand-shape-checks.js';

export const DIRECTIONS = ['forward', 'reverse', 'bidirectional'] as const;
export type Direction = (typeof DIRECTIONS)[number];

/** Attributes common to RNN, GRU and LSTM (`output_sequence` is opset 1's, accepted and ignored). */
export const recurrentAttributes = {
  activation_alpha: { kind: 'floats', doc: 'alphas, taken in order by the activations that use one' },
  activation_beta: { kind: 'floats', doc: 'betas, taken in order by the activations that use one' },
  activations: { kind: 'strings', doc: 'activation functions, per direction' },
  clip: { kind: 'float', doc: 'bound applied to every activation input: [-clip, clip]' },
  direction: { kind: 'string', default: 'forward', oneOf: DIRECTIONS },
  hidden_size: { kind: 'int' },
  layout: { kind: 'int', default: 0, oneOf: [0, 1], doc: '0: X [seq, batch, input]; 1: X [batch, seq, input] (opset 14)' },
  output_sequence: { kind: 'int', default: 0, doc: 'opset 1 only; Y is produced whenever it is requested' },
} as const;

/** How one recurrent op is laid out: gate count and default activations per direction. */
export interface RecurrentKind {
  /** Gates stacked in W and R (RNN 1, GRU 3, LSTM 4). */
  readonly gates: number;
  readonly defaultActivations: readonly string[];
}

/** What one recurrent op adds to the shared schema: operands after initial_h / Y_h, attributes. */
export interface RecurrentSchemaExtras {
  readonly inputs?: readonly OperandSpec[];
  readonly outputs?: readonly OperandSpec[];
  readonly attributes?: Readonly<Record<string, AttributeSpec>>;
}

/**
 * The schema parts RNN, GRU and LSTM share: inputs X, W, R, B, sequence_lens, initial_h (then the
 * op's own), outputs Y, Y_h (then the op's own), `recurrentAttributes` plus the op's own, and
 * `recurrentInference(kind)`. Each call builds fresh lists, so schemas share no arrays.
 */
export function recurrentSchema(kind: RecurrentKind, extras: RecurrentSchemaExtras = {}): Required<Pick<OpSchemaInit, 'inputs' | 'outputs' | 'attributes' | 'inferTypes' | 'verify'>> {
  return {
    verify: verifyRecurrentWeights(kind.gates),
    inputs: [
      { name: 'X' },
      { name: 'W' },
      { name: 'R' },
      { name: 'B', optional: true },
      { name: 'sequence_lens', optional: true },
      { name: 'initial_h', optional: true },
      ...(extras.inputs ?? []),
    ],
    outputs: [{ name: 'Y', optional: true }, { name: 'Y_h', optional: true }, ...(extras.outputs ?? [])],
    attributes: { ...recurrentAttributes, ...extras.attributes },
    inferTypes: recurrentInference(kind),
  };
}

function directionCount(node: Node): number {
  return node.attr('direction', 'string', 'forward') === 'bidirectional' ? 2 : 1;
}

function layoutOf(node: Node): 0 | 1 {
  const layout = node.attr('layout', 'int', 0);
  if (layout !== 0 && layout !== 1) throw opError(node, `has layout ${layout}`, { expected: '0 or 1' });
  return layout;
}

/** The most specific of several candidate dims for one size: a number, else a symbol, else unknown. */
function mostSpecific(candidates: readonly (Dim | undefined)[]): Dim {
  const known = candidates.filter((dim): dim is number | string => dim !== undefined && dim !== null);
  return known.find((dim) => typeof dim === 'number') ?? known[0] ?? null;
}

/**
 * Type inference: Y `[seq, dirs, batch, hidden]`, Y_h (and Y_c) `[dirs, batch, hidden]`, or the
 * layout-1 orders. The batch size comes from X, or else from initial_h / initial_c /
 * sequence_lens; hidden_size from the attribute, or else from R, W or the initial states.
 */
export function recurrentInference(kind: RecurrentKind): TypeInference {
  return (context: InferenceContext) => {
    const { node } = context;
    const x = inputTensorType(context, 0);
    const w = inputTensorType(context, 1);
    const r = inputTensorType(context, 2);
    const dtype: DType | undefined = x?.dtype ?? w?.dtype ?? r?.dtype;
    if (!dtype) return node.outputs.map(() => undefined);
    const layout = layoutOf(node);
    const directions = directionCount(node);
    const [batchAxis, stateBatchAxis] = layout === 0 ? [1, 1] : [0, 0];
    const xShape = x?.shape?.length === 3 ? x.shape : undefined;
    const states = [5, 6].map((index) => inputTensorType(context, index)?.shape).filter((shape) => shape?.length === 3);
    const lens = inputTensorType(context, 4)?.shape;
    const seq: Dim = xShape ? xShape[layout === 0 ? 0 : 1]! : null;
    const batch = mostSpecific([xShape?.[batchAxis], ...states.map((shape) => shape![stateBatchAxis]), lens?.length === 1 ? lens[0] : undefined]);
    const rowsOfW = staticDim(w?.shape?.[1]);
    const hidden = mostSpecific([
      node.optionalAttr('hidden_size', 'int'),
      r?.shape?.length === 3 ? r.shape[2] : undefined,
      rowsOfW === undefined ? undefined : rowsOfW / kind.gates,
      ...states.map((shape) => shape![2]),
    ]);
    const y = tensorType(dtype, layout === 0 ? [seq, directions, batch, hidden] : [batch, seq, directions, hidden]);
    const state = tensorType(dtype, layout === 0 ? [directions, batch, hidden] : [batch, directions, hidden]);
    return node.outputs.map((_, i) => (i === 0 ? y : state));
  };
}

/** Everything a cell needs, read and checked from the node's inputs. */
export interface RecurrentProblem {
  readonly node: Node;
  readonly dtype: DType;
  readonly layout: 0 | 1;
  readonly seqLength: number;
  readonly batch: number;
  readonly inputSize: number;
  readonly hidden: number;
  readonly directions: number;
  /** Per direction: does it run backwards in time. */
  readonly reversed: readonly boolean[];
  readonly x: ArrayLike<number>;
  /** `[dirs, gates*hidden, input]` */
  readonly w: ArrayLike<number>;
  /** `[dirs, gates*hidden, hidden]` */
  readonly r: ArrayLike<number>;
  /** `[dirs, 2*gates*hidden]` (zeros when absent) */
  readonly b: ArrayLike<number>;
  readonly seqLens: readonly number[];
  /** `[direction][slot]`: the activations, results rounded with `round`. */
  readonly activations: readonly (readonly Activation[])[];
  /** Clips an activation input to [-clip, clip] (identity without `clip`). */
  readonly clip: (value: number) => number;
  /** Rounds a state value to the element type. */
  readonly round: (value: number) => number;
}

function roundingFor(dtype: DType): (value: number) => number {
  return dtype === 'float64' ? (value) => value : Math.fround;
}

function expectShape(node: Node, name: string, tensor: Tensor, expected: readonly number[]): void {
  if (tensor.rank === expected.length && tensor.shape.every((d, i) => d === expected[i])) return;
  throw opError(node, `input ${name} has shape [${tensor.shape.join(', ')}]`, { expected: `[${expected.join(', ')}]` });
}

const FLOAT_DTYPES: ReadonlySet<DType> = new Set(['float32', 'float64', 'float16', 'bfloat16']);

/** Reads and checks X, W, R, B, sequence_lens and the activations (initial states are read by `initialState`). */
export function readProblem(inputs: readonly RuntimeValue[], context: KernelContext, kind: RecurrentKind): RecurrentProblem {
  const { node } = context;
  const x = inputTensor(inputs, 0, context);
  const w = inputTensor(inputs, 1, context);
  const r = inputTensor(inputs, 2, context);
  if (!FLOAT_DTYPES.has(x.dtype)) throw opError(node, `input X is ${x.dtype}`, { expected: 'float32, float64, float16 or bfloat16' });
  for (const [name, tensor] of [['W', w], ['R', r]] as const) {
    if (tensor.dtype !== x.dtype) throw opError(node, `input ${name} is ${tensor.dtype} but X is ${x.dtype}`);
  }
  if (x.rank !== 3) throw opError(node, `input X has rank ${x.rank}`, { expected: 'rank 3' });
  const layout = layoutOf(node);
  const [seqLength, batch, inputSize] = layout === 0 ? [x.shape[0]!, x.shape[1]!, x.shape[2]!] : [x.shape[1]!, x.shape[0]!, x.shape[2]!];
  const directions = directionCount(node);
  const direction = node.attr('direction', 'string', 'forward') as Direction;
  if (!DIRECTIONS.includes(direction)) throw opError(node, `has direction '${direction}'`, { expected: DIRECTIONS.join(', ') });
  if (r.rank !== 3) throw opError(node, `input R has rank ${r.rank}`, { expected: 'rank 3: [num_directions, gates*hidden_size, hidden_size]' });
  const hidden = node.optionalAttr('hidden_size', 'int') ?? r.shape[2]!;
  if (!(hidden > 0)) throw opError(node, `has hidden_size ${hidden}`, { expected: 'a positive size' });
  const rows = kind.gates * hidden;
  expectShape(node, 'W', w, [directions, rows, inputSize]);
  expectShape(node, 'R', r, [directions, rows, hidden]);
  const bias = optionalInputTensor(inputs, 3, context);
  if (bias) {
    expectShape(node, 'B', bias, [directions, 2 * rows]);
    if (bias.dtype !== x.dtype) throw opError(node, `input B is ${bias.dtype} but X is ${x.dtype}`);
  }
  const lensTensor = optionalInputTensor(inputs, 4, context);
  let seqLens: number[];
  if (lensTensor) {
    expectShape(node, 'sequence_lens', lensTensor, [batch]);
    seqLens = readInts(lensTensor);
    const bad = seqLens.findIndex((len) => len < 0 || len > seqLength);
    if (bad >= 0) throw opError(node, `sequence_lens[${bad}] is ${seqLens[bad]}`, { expected: `a length in [0, ${seqLength}]` });
  } else {
    seqLens = new Array<number>(batch).fill(seqLength);
  }
  const round = roundingFor(x.dtype);
  const clipValue = node.optionalAttr('clip', 'float');
  if (clipValue !== undefined && !(clipValue > 0)) throw opError(node, `has clip ${clipValue}`, { expected: 'a positive threshold' });
  return {
    node,
    dtype: x.dtype,
    layout,
    seqLength,
    batch,
    inputSize,
    hidden,
    directions,
    reversed: direction === 'bidirectional' ? [false, true] : [direction === 'reverse'],
    x: readNumbers(x),
    w: readNumbers(w),
    r: readNumbers(r),
    b: bias ? readNumbers(bias) : new Float64Array(directions * 2 * rows),
    seqLens,
    activations: resolveActivations(node, directions, kind.defaultActivations.length, kind.defaultActivations).map((list) => list.map((activation) => (value: number) => round(activation(value)))),
    clip: clipValue === undefined ? (value) => value : (value) => Math.min(Math.max(value, -clipValue), clipValue),
    round,
  };
}

/** Offset of state `[d, b, 0]` in a Y_h-shaped tensor (initial_h, initial_c, Y_h, Y_c). */
function stateOffset(problem: RecurrentProblem, d: number, b: number): number {
  const { layout, directions, batch, hidden } = problem;
  return (layout === 0 ? d * batch + b : b * directions + d) * hidden;
}

/** An initial state input (initial_h at 5, initial_c at 6) as a Y_h-shaped buffer, zeros when absent. */
export function initialState(inputs: readonly RuntimeValue[], index: number, name: string, context: KernelContext, problem: RecurrentProblem): ArrayLike<number> {
  const { directions, batch, hidden, layout } = problem;
  const tensor = optionalInputTensor(inputs, index, context);
  if (!tensor) return new Float64Array(directions * batch * hidden);
  if (tensor.dtype !== problem.dtype) throw opError(context.node, `input ${name} is ${tensor.dtype} but X is ${problem.dtype}`);
  expectShape(context.node, name, tensor, layout === 0 ? [directions, batch, hidden] : [batch, directions, hidden]);
  return readNumbers(tensor);
}

/** The mutable state of one sequence while a direction runs: hidden (and cell) values. */
export interface CellState {
  readonly h: Float64Array;
  readonly c: Float64Array;
}

/**
 * One time step of one sequence: reads `x[xOffset .. xOffset+input)` and the state, and writes the
 * new (rounded) state in place. `d` is the direction index.
 */
export type CellStep = (d: number, xOffset: number, state: CellState) => void;

/**
 * `out[i] += Σ_k m[row(i), k] * v[k]` for `rows` consecutive rows of an `[*, cols]` matrix starting
 * at `mOffset`: the sum accumulates in order with each multiply-add rounded by `round`, then is
 * added to `out` and rounded again (a GEMM with beta 1).
 */
export function addMatVec(out: Float64Array, outOffset: number, rows: number, m: ArrayLike<number>, mOffset: number, cols: number, v: ArrayLike<number>, vOffset: number, round: (value: number) => number): void {
  for (let i = 0; i < rows; i++) {
    let sum = 0;
    const base = mOffset + i * cols;
    for (let k = 0; k < cols; k++) sum = round(sum + m[base + k]! * v[vOffset + k]!);
    out[outOffset + i] = round(out[outOffset + i]! + sum);
  }
}

/**
 * Runs every direction over every batch entry for its own sequence length (forward from t=0,
 * reverse from t=len-1) and returns the node's outputs: Y (zeros past a sequence's length), Y_h
 * (the state after the last step of each sequence; zeros when its length is 0, as ONNX Runtime
 * gives) and, with `initialC` (LSTM), Y_c. Outputs the node omits are `null` and not computed.
 */
export function runRecurrent(problem: RecurrentProblem, initialH: ArrayLike<number>, initialC: ArrayLike<number> | undefined, step: CellStep): RuntimeValue[] {
  const { node, dtype, layout, seqLength, batch, inputSize, hidden, directions } = problem;
  const wants = (i: number) => node.outputs[i] !== undefined && node.outputs[i] !== null;
  const y = wants(0) ? allocateElements(dtype, seqLength * directions * batch * hidden) : undefined;
  const yh = allocateElements(dtype, directions * batch * hidden);
  const yc = allocateElements(dtype, directions * batch * hidden);
  const state: CellState = { h: new Float64Array(hidden), c: new Float64Array(hidden) };
  for (let d = 0; d < directions; d++) {
    for (let b = 0; b < batch; b++) {
      const at = stateOffset(problem, d, b);
      for (let j = 0; j < hidden; j++) {
        state.h[j] = problem.round(initialH[at + j]!);
        state.c[j] = initialC ? problem.round(initialC[at + j]!) : 0;
      }
      const length = problem.seqLens[b]!;
      for (let s = 0; s < length; s++) {
        const t = problem.reversed[d] ? length - 1 - s : s;
        const xOffset = (layout === 0 ? t * batch + b : b * seqLength + t) * inputSize;
        step(d, xOffset, state);
        if (y) {
          const yOffset = (layout === 0 ? (t * directions + d) * batch + b : (b * seqLength + t) * directions + d) * hidden;
          for (let j = 0; j < hidden; j++) (y as Float64Array)[yOffset + j] = state.h[j]!;
        }
      }
      // A sequence of length 0 has no last step: its Y_h / Y_c stay zero (as in ONNX Runtime).
      if (length === 0) continue;
      for (let j = 0; j < hidden; j++) {
        (yh as Float64Array)[at + j] = state.h[j]!;
        (yc as Float64Array)[at + j] = state.c[j]!;
      }
    }
  }
  const yShape = layout === 0 ? [seqLength, directions, batch, hidden] : [batch, seqLength, directions, hidden];
  const stateShape = layout === 0 ? [directions, batch, hidden] : [batch, directions, hidden];
  const results: RuntimeValue[] = [y ? tensorFromElements(dtype, yShape, y) : null, wants(1) ? tensorFromElements(dtype, stateShape, yh) : null];
  if (initialC) results.push(wants(2) ? tensorFromElements(dtype, stateShape, yc) : null);
  return results.slice(0, Math.max(node.outputs.length, 1));
}
