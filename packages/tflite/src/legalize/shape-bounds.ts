import { isTensorType, ModelpassError, type Graph, type Node, type Value } from '@modelpass/ir';
import { META_SHAPE_BOUND } from '../io/metadata-keys.js';
import { numbersOf } from './constant-values.js';

/**
 * Largest shapes of the tensors after an op of data-dependent output length (WHERE, UNIQUE, a SLICE
 * by a run-time count: their rules record a bound in `META_SHAPE_BOUND`). TFLite prepares the ops
 * after such a tensor only while running, so the tensors they write keep the shapes of the file
 * until then, and a runtime sizes the buffers of graph outputs from those when it loads the model.
 * Every tensor downstream gets a bound here (the writer puts it in the file); a graph output whose
 * bound cannot be derived is an error naming the op that produced it.
 */

/** Ops whose output has the shape of their (first) input. */
const SAME_SHAPE = new Set([
  'CAST', 'RELU', 'RELU6', 'RELU_N1_TO_1', 'LOGISTIC', 'TANH', 'EXP', 'LOG', 'ABS', 'NEG', 'SQRT', 'RSQRT', 'SIN', 'COS', 'FLOOR', 'CEIL', 'ROUND',
  'LOGICAL_NOT', 'HARD_SWISH', 'LEAKY_RELU', 'ELU', 'GELU', 'SQUARE', 'QUANTIZE', 'DEQUANTIZE', 'SOFTMAX', 'LOG_SOFTMAX', 'CUMSUM', 'ZEROS_LIKE', 'ONES_LIKE', 'SIGN',
]);
/** Elementwise ops that broadcast their inputs. */
const BROADCASTING = new Set([
  'ADD', 'SUB', 'MUL', 'DIV', 'POW', 'MAXIMUM', 'MINIMUM', 'EQUAL', 'NOT_EQUAL', 'GREATER', 'GREATER_EQUAL', 'LESS', 'LESS_EQUAL', 'LOGICAL_AND', 'LOGICAL_OR',
  'FLOOR_MOD', 'FLOOR_DIV', 'SQUARED_DIFFERENCE', 'SELECT', 'SELECT_V2', 'PRELU',
]);
/** Ops whose output has at most as many elements as their first input. */
const AT_MOST_INPUT = new Set(['SLICE', 'STRIDED_SLICE', 'SUM', 'MEAN', 'REDUCE_MAX', 'REDUCE_MIN', 'REDUCE_PROD', 'REDUCE_ANY', 'ARG_MAX', 'ARG_MIN', 'TOPK_V2', 'RESHAPE', 'SQUEEZE', 'EXPAND_DIMS', 'SPLIT', 'SPLIT_V', 'UNPACK', 'UNIQUE', 'WHERE']);

type Bounds = Map<Value, number[]>;

function irDims(value: Value): (number | null)[] | undefined {
  if (!isTensorType(value.type) || !value.type.shape) return undefined;
  return value.type.shape.map((dim) => (typeof dim === 'number' ? dim : null));
}

/** A shape of `value`'s rank holding at least `count` elements: its static dims, the first run-time one large enough, the others 1. */
function shapeForCount(dims: readonly (number | null)[], count: number): number[] {
  const fixed = dims.reduce<number>((n, d) => n * (d ?? 1), 1);
  let first = true;
  return dims.map((dim) => {
    if (dim !== null) return dim;
    if (!first) return 1;
    first = false;
    return Math.max(1, Math.ceil(count / Math.max(fixed, 1)));
  });
}

function normalizedAxis(node: Node, rank: number): number {
  const axis = node.optionalAttr('axis', 'int') ?? 0;
  return axis < 0 ? axis + rank : axis;
}

const countOf = (shape: readonly number[]): number => shape.reduce((n, d) => n * d, 1);

/** A bound of each output of `node` from its inputs' bounds, or undefined where none follows. */
function outputBounds(node: Node, boundOf: (value: Value | null | undefined) => number[] | undefined): (number[] | undefined)[] {
  const builtin = node.op.slice('tflite.'.length);
  const input = boundOf(node.inputs[0]);
  if (SAME_SHAPE.has(builtin)) return [input];
  if (BROADCASTING.has(builtin)) {
    const shapes = node.inputs.map(boundOf);
    if (shapes.some((shape) => !shape)) return [undefined];
    const rank = Math.max(...shapes.map((shape) => shape!.length));
    return [Array.from({ length: rank }, (_, i) => Math.max(...shapes.map((shape) => shape![shape!.length - rank + i] ?? 1)))];
  }
  if (builtin === 'TRANSPOSE') {
    const perm = numbersOf(node.inputs[1]);
    return [input && perm ? perm.map((axis) => input[axis]!) : undefined];
  }
  if (builtin === 'GATHER') {
    const indices = boundOf(node.inputs[1]);
    if (!input || !indices || (node.optionalAttr('batch_dims', 'int') ?? 0) !== 0) return [undefined];
    const axis = normalizedAxis(node, input.length);
    return [[...input.slice(0, axis), ...indices, ...input.slice(axis + 1)]];
  }
  if (builtin === 'CONCATENATION') {
    const shapes = node.inputs.map(boundOf);
    if (shapes.some((shape) => !shape) || !input) return [undefined];
    const axis = normalizedAxis(node, input.length);
    return [input.map((_, i) => (i === axis ? shapes.reduce((n, shape) => n + shape![i]!, 0) : Math.max(...shapes.map((shape) => shape![i]!))))];
  }
  if (builtin === 'PACK') {
    const shapes = node.inputs.map(boundOf);
    if (shapes.some((shape) => !shape)) return [undefined];
    return [[shapes.length * Math.max(...shapes.map((shape) => countOf(shape!)))]];
  }
  if (AT_MOST_INPUT.has(builtin) && input) return node.outputs.map(() => [countOf(input)]);
  return node.outputs.map(() => undefined);
}

/** Canonical ops of data-dependent output length whose lowering records a bound (rules/data-dependent.ts, non-max-suppression.ts). */
const CANONICAL_SOURCES = new Set(['onnx.NonZero', 'onnx.Unique', 'onnx.NonMaxSuppression', 'onnx.Compress']);
/**
 * Canonical ops whose lowering may carry a bound through (they become builtins of SAME_SHAPE, BROADCASTING,
 * AT_MOST_INPUT, TRANSPOSE, GATHER, CONCATENATION, PACK), on the generous side: an op outside this set
 * certainly loses the bound, so the refusal can come before anything is lowered.
 */
const CANONICAL_BOUND_CARRIERS = new Set(
  [
    'Relu', 'Sigmoid', 'Tanh', 'Exp', 'Log', 'Abs', 'Neg', 'Sqrt', 'Reciprocal', 'Sin', 'Cos', 'Floor', 'Ceil', 'Round', 'Not', 'Sign', 'Erf',
    'HardSwish', 'HardSigmoid', 'LeakyRelu', 'Elu', 'Selu', 'Celu', 'Gelu', 'Softplus', 'Softsign', 'Mish', 'Clip', 'Cast', 'CastLike', 'Identity', 'Dropout',
    'Softmax', 'LogSoftmax', 'Hardmax', 'CumSum', 'IsNaN', 'IsInf', 'Add', 'Sub', 'Mul', 'Div', 'Pow', 'Max', 'Min', 'Sum', 'Mean', 'Equal', 'Greater',
    'GreaterOrEqual', 'Less', 'LessOrEqual', 'And', 'Or', 'Xor', 'Where', 'Mod', 'PRelu', 'BitShift', 'Transpose', 'Gather', 'Concat', 'Reshape', 'Flatten',
    'Squeeze', 'Unsqueeze', 'Slice', 'Split', 'ReduceMean', 'ReduceSum', 'ReduceMax', 'ReduceMin', 'ReduceProd', 'ReduceL1', 'ReduceL2', 'ReduceSumSquare',
    'ReduceLogSum', 'ReduceLogSumExp', 'ArgMax', 'ArgMin', 'TopK', 'Shape', 'Size', 'LayerNormalization', 'LpNormalization', 'If', 'Loop', 'Scan',
  ].map((op) => `onnx.${op}`),
);

/**
 * The refusal `boundDataDependentShapes` would give after lowering, predicted on the canonical graph so
 * that it comes before anything is lowered (the model is left as it was): a graph output of run-time
 * length downstream of NonZero/Unique/NonMaxSuppression/Compress through an op that cannot carry a
 * bound. Generous: what it lets through is still checked after lowering.
 */
export function assertBoundableBeforeLowering(graph: Graph): void {
  const lost = new Map<Value, Node>();
  const carried = new Set<Value>();
  for (const node of graph.nodes()) {
    // Nothing to carry until the first data-dependent op (most models have none): no per-input lookups.
    if (lost.size === 0 && carried.size === 0 && !CANONICAL_SOURCES.has(node.op)) continue;
    const readsLost = node.inputs.some((value) => value && lost.has(value));
    const readsCarried = node.inputs.some((value) => value && carried.has(value));
    if (!CANONICAL_SOURCES.has(node.op) && !readsLost && !readsCarried) continue;
    for (const output of node.outputs) {
      if (!output) continue;
      const dims = irDims(output);
      if (dims && dims.every((dim) => dim !== null)) continue; // a static shape is exact
      if (readsLost) lost.set(output, lost.get(node.inputs.find((value) => value && lost.has(value))!)!);
      else if (CANONICAL_SOURCES.has(node.op) || CANONICAL_BOUND_CARRIERS.has(node.op)) carried.add(output);
      else lost.set(output, node);
    }
  }
  const problems = graph.outputs.filter((output) => lost.has(output));
  if (problems.length > 0) throw unboundedOutputsError(problems.map((output) => ({ output, node: lost.get(output)! })), ' nothing was changed;');
}

function unboundedOutputsError(problems: readonly { output: Value; node: Node }[], changed = ''): ModelpassError {
  return new ModelpassError(
    problems.map(({ output, node }) => ({
      reason: `graph output '${output.name}' has a data-dependent length whose largest value does not follow from its op (${node.op});${changed} a TFLite runtime sizes output buffers when it loads the model`,
      location: node.location,
      source: '@modelpass/tflite',
      code: 'tflite/unmappable',
      hint: 'end the graph at a data-dependent op (NonZero, Compress, Unique, NonMaxSuppression) or at an elementwise, Cast, Transpose, Reshape, Gather, Concat, Slice or reduce op after it',
    })),
  );
}

/**
 * Gives every tensor downstream of a data-dependent one a bound (`META_SHAPE_BOUND`) and checks that
 * every graph output has one. Returns how many tensors were bounded.
 */
export function boundDataDependentShapes(graph: Graph): number {
  const bounds: Bounds = new Map();
  const unbounded = new Map<Value, Node>();
  const boundOf = (value: Value | null | undefined): number[] | undefined => {
    if (!value) return undefined;
    const known = bounds.get(value);
    if (known) return known;
    const dims = irDims(value);
    return dims?.every((dim) => dim !== null) ? (dims as number[]) : dims?.map((dim) => dim ?? 1);
  };
  let bounded = 0;
  for (const node of graph.nodes()) {
    // Nothing is bounded before the first data-dependent op (most models have none): no per-input lookups.
    const dependent = (bounds.size > 0 || unbounded.size > 0) && node.inputs.some((value) => value && (bounds.has(value) || unbounded.has(value)));
    // Any op's rule may record a bound (WHERE, UNIQUE, SLICE, IF, WHILE…); the writer reads the same metadata map later.
    if (!dependent && node.outputs.every((output) => output?.metadataEntry(META_SHAPE_BOUND) === undefined)) continue;
    const recorded = node.outputs.map((output) => output?.metadataEntry(META_SHAPE_BOUND));
    const derived = node.inputs.some((value) => value && unbounded.has(value)) ? node.outputs.map(() => undefined) : outputBounds(node, boundOf);
    node.outputs.forEach((output, index) => {
      if (!output) return;
      const dims = irDims(output);
      if (dims && dims.every((dim) => dim !== null)) return; // a static shape is exact
      const text = recorded[index];
      const bound = text !== undefined ? text.split(',').map(Number) : derived[index];
      if (!bound || !dims) {
        unbounded.set(output, node);
        return;
      }
      // Static dims stay as they are; a bound of another rank still bounds the element count.
      const shape = bound.length === dims.length ? dims.map((dim, i) => dim ?? bound[i]!) : shapeForCount(dims, countOf(bound));
      bounds.set(output, shape);
      output.metadata.set(META_SHAPE_BOUND, shape.join(','));
      bounded++;
    });
  }
  const problems = graph.outputs.filter((output) => unbounded.has(output));
  if (problems.length > 0) throw unboundedOutputsError(problems.map((output) => ({ output, node: unbounded.get(output)! })));
  return bounded;
}
