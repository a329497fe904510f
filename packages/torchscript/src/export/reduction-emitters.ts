/**
 * Reductions and selections along axes (Reduce*, CumSum, TopK, ArgMax/ArgMin), elementwise Max/Min/Sum/Mean and the
 * IsNaN/IsInf predicates as `torch.*` calls.
 */
import { isTensorType } from '@modelpass/ir';
import { pyInts, type OpEmitter } from './emit-context.js';
import { axesOf, input, shapeLength } from './emit-operands.js';

function argExtremum(call: 'argmax' | 'argmin'): OpEmitter {
  return (e, node) => {
    if (node.attr('select_last_index', 'int', 0) !== 0) e.fail(node, 'select_last_index=1 (torch returns the first index)');
    const keep = node.attr('keepdims', 'int', 1) === 1 ? 'True' : 'False';
    e.assign(node, `torch.${call}(${e.name(node.inputs[0] ?? null)}, ${node.attr('axis', 'int', 0)}, ${keep})`);
  };
}

/** Variadic ONNX Max/Min as a chain of torch.maximum/minimum. */
function elementwise(call: 'maximum' | 'minimum'): OpEmitter {
  return (e, node) => {
    const operands = node.inputs.map((value) => e.name(value ?? null));
    if (operands.length === 0) e.fail(node, 'no inputs');
    e.assign(node, operands.slice(1).reduce((acc, next) => `torch.${call}(${acc}, ${next})`, operands[0]!));
  };
}

/** Variadic ONNX Sum and Mean (multidirectional broadcasting) as a chain of torch.add; Mean divides by the count. */
function variadicSum(mean: boolean): OpEmitter {
  return (e, node) => {
    const operands = node.inputs.map((value) => e.name(value ?? null));
    if (operands.length === 0) e.fail(node, 'no inputs');
    const sum = operands.slice(1).reduce((acc, next) => `torch.add(${acc}, ${next})`, operands[0]!);
    e.assign(node, mean && operands.length > 1 ? `torch.div(${sum}, ${operands.length}.0)` : sum);
  };
}

/** `wrap`: the reduced expression around the reduction's input and result (ReduceL2: sqrt of the sum of squares). */
function reduce(call: 'mean' | 'sum' | 'amax' | 'amin' | 'logsumexp', wrap?: { readonly input: (x: string) => string; readonly output: (y: string) => string }): OpEmitter {
  return (e, node) => {
    const x = wrap ? wrap.input(input(e, node)) : input(e, node);
    const out = (expression: string) => (wrap ? wrap.output(expression) : expression);
    // An axes input of static shape [0] is empty whatever it holds (ONNX: reduce every axis, unless noop_with_empty_axes).
    const axes = axesOf(e, node) ?? (node.inputs[1] && shapeLength(node.inputs[1]) === 0 ? [] : undefined);
    // Axes computed at run time (an input since ReduceSum-13 / opset 18): reducing every axis instead would be wrong.
    if (!axes && node.inputs[1]) return e.fail(node, 'computed axes');
    const keep = node.attr('keepdims', 'int', 1) === 1 ? 'True' : 'False';
    if (!axes || axes.length === 0) {
      if (node.attr('noop_with_empty_axes', 'int', 0) === 1) e.fail(node, 'noop_with_empty_axes');
      const rank = e.rank(node.inputs[0] ?? null);
      if (rank === undefined) e.fail(node, 'reducing all axes of a tensor of unknown rank');
      e.assign(node, out(`torch.${call}(${x}, ${pyInts(Array.from({ length: rank! }, (_, i) => i))}, ${keep})`));
      return;
    }
    e.assign(node, out(`torch.${call}(${x}, ${pyInts(axes)}, ${keep})`));
  };
}

/** ReduceProd as torch.prod one axis at a time (torch.prod takes a single dim), last axis first. */
const reduceProd: OpEmitter = (e, node) => {
  const outputType = node.output(0).type;
  const dtype = isTensorType(outputType) ? outputType.dtype : undefined;
  // torch.prod of an integer tensor gives int64: other integer dtypes would change type.
  if (dtype !== 'float32' && dtype !== 'float64' && dtype !== 'int64') return e.fail(node, `ReduceProd of ${dtype ?? 'an unknown dtype'} (torch.prod promotes integers to int64)`);
  const axes = axesOf(e, node) ?? (node.inputs[1] && shapeLength(node.inputs[1]) === 0 ? [] : undefined);
  if (!axes && node.inputs[1]) return e.fail(node, 'computed axes');
  const rank = e.rank(node.inputs[0] ?? null);
  if (rank === undefined) return e.fail(node, 'ReduceProd of a tensor of unknown rank');
  if ((!axes || axes.length === 0) && node.attr('noop_with_empty_axes', 'int', 0) === 1) return e.fail(node, 'noop_with_empty_axes');
  const chosen = !axes || axes.length === 0 ? Array.from({ length: rank }, (_, i) => i) : axes.map((axis) => (axis < 0 ? axis + rank : axis));
  const keep = node.attr('keepdims', 'int', 1) === 1 ? 'True' : 'False';
  const descending = [...new Set(chosen)].sort((a, b) => b - a);
  e.assign(node, descending.reduce((expression, axis) => `torch.prod(${expression}, ${axis}, ${keep})`, input(e, node)));
};

/** CumSum along a constant axis; exclusive subtracts the element itself, reverse is not written. */
const cumSum: OpEmitter = (e, node) => {
  const axis = e.constantNumber(node.inputs[1] ?? null);
  if (axis === undefined) return e.fail(node, 'an axis computed at run time');
  if (node.attr('reverse', 'int', 0) === 1) return e.fail(node, 'reverse=1');
  const x = input(e, node);
  const sum = `torch.cumsum(${x}, ${axis})`;
  e.assign(node, node.attr('exclusive', 'int', 0) === 1 ? `torch.sub(${sum}, ${x})` : sum);
};

/** TopK → torch.topk(x, k, dim, largest, sorted=True): values and int64 indices; K constant or read from its tensor at run time. */
const topK: OpEmitter = (e, node) => {
  const kConstant = node.inputs[1] ? e.constantNumber(node.inputs[1]) : node.optionalAttr('k', 'int');
  if (kConstant === undefined && !node.inputs[1]) return e.fail(node, 'no K (neither the input nor the attribute)');
  const k = kConstant !== undefined ? String(kConstant) : `int(${input(e, node, 1)})`;
  const largest = node.attr('largest', 'int', 1) === 1 ? 'True' : 'False';
  // sorted=0 leaves the order unspecified in ONNX; torch's sorted order is one valid answer.
  const call = `torch.topk(${input(e, node)}, ${k}, ${node.attr('axis', 'int', -1)}, ${largest}, True)`;
  const [values, indices] = [node.outputs[0], node.outputs[1]];
  if (values && indices) e.line(`${e.name(values)}, ${e.name(indices)} = ${call}`);
  else if (values) e.assign(node, `${call}[0]`);
  else if (indices) e.assign(node, `${call}[1]`, 1);
};

export const reductionEmitters: ReadonlyArray<[string, OpEmitter]> = [
  ['onnx.ReduceMean', reduce('mean')],
  ['onnx.ReduceSum', reduce('sum')],
  ['onnx.ReduceMax', reduce('amax')],
  ['onnx.ReduceMin', reduce('amin')],
  ['onnx.ReduceLogSumExp', reduce('logsumexp')],
  ['onnx.ReduceLogSum', reduce('sum', { input: (x) => x, output: (y) => `torch.log(${y})` })],
  ['onnx.ReduceSumSquare', reduce('sum', { input: (x) => `torch.mul(${x}, ${x})`, output: (y) => y })],
  ['onnx.ReduceL1', reduce('sum', { input: (x) => `torch.abs(${x})`, output: (y) => y })],
  ['onnx.ReduceL2', reduce('sum', { input: (x) => `torch.mul(${x}, ${x})`, output: (y) => `torch.sqrt(${y})` })],
  ['onnx.ReduceProd', reduceProd],
  ['onnx.CumSum', cumSum],
  ['onnx.TopK', topK],
  ['onnx.ArgMax', argExtremum('argmax')],
  ['onnx.ArgMin', argExtremum('argmin')],
  ['onnx.Max', elementwise('maximum')],
  ['onnx.Min', elementwise('minimum')],
  ['onnx.Sum', variadicSum(false)],
  ['onnx.Mean', variadicSum(true)],
  ['onnx.IsNaN', (e, node) => e.assign(node, `torch.isnan(${e.name(node.inputs[0] ?? null)})`)],
  ['onnx.IsInf', (e, node) => {
    const negative = node.attr('detect_negative', 'int', 1) === 1;
    const positive = node.attr('detect_positive', 'int', 1) === 1;
    const x = e.name(node.inputs[0] ?? null);
    e.assign(node, negative && positive ? `torch.isinf(${x})` : negative ? `torch.isneginf(${x})` : positive ? `torch.isposinf(${x})` : `torch.zeros_like(${x}, dtype=11)`);
  }],
];
