import { Tensor, tensorType, type Node, type Value } from '@modelpass/ir';
import type { LoweringRule } from '../lowering-rule.js';
import { dimsOf, replaceNode, tensorTypeOf, TfliteEmitter } from '../lowering-tools.js';
import { elementwiseInput, flattenProblem } from './compose.js';

/** Xor, IsNaN, IsInf, Mean and Size: tests, averages and counts written with comparison and reduction builtins. */

/** TFLite 2.9's comparison kernels broadcast at most 4-D: higher ranks need equal shapes. */
function broadcastProblem(node: Node): string | undefined {
  const shapes = node.inputs.map((input) => dimsOf(input));
  if (shapes.some((dims) => !dims)) return 'needs the input shapes (run shape inference first)';
  if (!shapes.some((dims) => dims!.length > 4)) return undefined;
  const first = JSON.stringify(shapes[0]);
  return shapes.every((dims) => JSON.stringify(dims) === first) ? undefined : `${node.op} broadcasting operands of rank > 4 has no TFLite 2.9 kernel (it broadcasts at most 4-D)`;
}

/** Xor of bools: NOT_EQUAL. */
const xor: LoweringRule = {
  ops: ['onnx.Xor'],
  stage: 'lower',
  targets: ['NOT_EQUAL'],
  check: (node) => (node.inputs.some((input) => tensorTypeOf(input)?.dtype !== 'bool') ? 'Xor takes bool tensors' : broadcastProblem(node)),
  lower(node, context) {
    const emit = new TfliteEmitter(node, context);
    replaceNode(node, [emit.op1('NOT_EQUAL', [node.input(0), node.input(1)], {}, node.output(0).type)]);
  },
};

function floatTest(node: Node): string | undefined {
  const dtype = tensorTypeOf(node.inputs[0])?.dtype;
  return dtype === 'float32' ? flattenProblem(node.inputs[0]) : `${node.op} is lowered for float32 only (input is ${dtype ?? 'untyped'})`;
}

/** IsNaN: x ≠ x. */
const isNaN: LoweringRule = {
  ops: ['onnx.IsNaN'],
  stage: 'lower',
  targets: ['NOT_EQUAL', 'RESHAPE'],
  check: floatTest,
  lower(node, context) {
    const emit = new TfliteEmitter(node, context);
    const { composer: c, x, restore } = elementwiseInput(node, emit, node.input(0), 'float32');
    replaceNode(node, [restore(c.compare('NOT_EQUAL', x, x))]);
  },
};

/** IsInf: x = +∞ and/or x = −∞ (detect_positive / detect_negative); neither: all false. */
const isInf: LoweringRule = {
  ops: ['onnx.IsInf'],
  stage: 'lower',
  targets: ['EQUAL', 'ABS', 'LESS', 'RESHAPE'],
  check: floatTest,
  lower(node, context) {
    const emit = new TfliteEmitter(node, context);
    const { composer: c, x, restore } = elementwiseInput(node, emit, node.input(0), 'float32');
    const positive = (node.optionalAttr('detect_positive', 'int') ?? 1) === 1;
    const negative = (node.optionalAttr('detect_negative', 'int') ?? 1) === 1;
    let y: Value;
    if (positive && negative) y = c.compare('EQUAL', c.unary('ABS', x), c.scalar(Infinity));
    else if (positive) y = c.compare('EQUAL', x, c.scalar(Infinity));
    else if (negative) y = c.compare('EQUAL', x, c.scalar(-Infinity));
    else y = c.compare('LESS', c.unary('ABS', x), c.scalar(0)); // false everywhere, NaN included
    replaceNode(node, [restore(y)]);
  },
};

/** Mean of any number of float inputs: ADD chain, then MUL by 1/n. */
const mean: LoweringRule = {
  ops: ['onnx.Mean'],
  stage: 'lower',
  targets: ['ADD', 'MUL'],
  check(node) {
    if (node.inputs.length === 0) return 'Mean needs at least one input';
    const dtype = node.inputs.map((input) => tensorTypeOf(input)?.dtype).find((d) => d !== 'float32');
    return dtype === undefined ? broadcastProblem(node) : `Mean is lowered for float32 only (an input is ${dtype ?? 'untyped'})`;
  },
  lower(node, context) {
    const emit = new TfliteEmitter(node, context);
    const type = node.output(0).type;
    const inputs = node.inputs.filter((input): input is Value => input !== null);
    const fusible = { fused_activation_function: 'NONE' };
    let sum = inputs[0]!;
    for (const next of inputs.slice(1)) sum = emit.op1('ADD', [sum, next], fusible, type);
    if (inputs.length === 1) {
      replaceNode(node, [sum]);
      return;
    }
    replaceNode(node, [emit.op1('MUL', [sum, emit.constant(Tensor.scalar('float32', 1 / inputs.length), 'reciprocal_count')], fusible, type)]);
  },
};

/** Size: the product of the dims, a constant when they are static, else SHAPE → REDUCE_PROD (int64). */
const size: LoweringRule = {
  ops: ['onnx.Size'],
  stage: 'lower',
  targets: ['SHAPE', 'REDUCE_PROD', 'RESHAPE'],
  check: (node) => (dimsOf(node.inputs[0]) ? undefined : 'Size needs the input rank (run shape inference first)'),
  lower(node, context) {
    const emit = new TfliteEmitter(node, context);
    const dims = dimsOf(node.inputs[0])!;
    const scalarType = tensorType('int64', []);
    let y: Value;
    if (dims.every((d) => typeof d === 'number')) {
      const count = (dims as number[]).reduce((n, d) => n * d, 1);
      // A RESHAPE copy: a constant cannot be a graph output by itself.
      y = emit.op1('RESHAPE', [emit.constant(Tensor.fromValues('int64', [1], [BigInt(count)]), 'size'), emit.int32([], [0], 'scalar_shape')], {}, scalarType);
    } else {
      const shape = emit.op1('SHAPE', [node.input(0)], { out_type: 'INT64' }, tensorType('int64', [dims.length]));
      y = emit.op1('REDUCE_PROD', [shape, emit.int32([0], [1], 'axis')], { keep_dims: 0 }, scalarType);
    }
    replaceNode(node, [y]);
  },
};

export const logicMoreRules: readonly LoweringRule[] = [xor, isNaN, isInf, mean, size];
