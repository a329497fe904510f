import { attrs, Builder, isTensorType, Tensor, tensorType, type Attribute, type Graph, type Node, type Value } from '@modelpass/ir';
import { constantOf } from '../constant-values.js';

/**
 * QOperator models (QLinearConv, QLinearMatMul, com.microsoft QGemm/QLinearAdd/QLinearMul/QLinearSigmoid/
 * QLinearAveragePool/QLinearGlobalAveragePool/QLinearLeakyRelu/QLinearSoftmax/QLinearConcat, MaxPool/Flatten on
 * the integers) → the QDQ form the int8 lowering takes: each QLinear op becomes DequantizeLinear on
 * its quantized operands → the float op → QuantizeLinear with its output parameters, and an op that
 * moves integers as they are (MaxPool, Flatten, Reshape…) gets a DequantizeLinear/QuantizeLinear
 * pair of its input's parameters. fold-qdq then folds them into quant<> types.
 */

interface QOperatorForm {
  /** The float op it stands for. */
  readonly op: string;
  /** [integers, scale, zero point] input indices per quantized operand, in the float op's order. */
  readonly operands: readonly (readonly [number, number, number])[];
  /** The int32 bias input and the operands whose scales multiply into its scale. */
  readonly bias?: { readonly index: number; readonly scales: readonly [number, number] };
  /** [scale, zero point] input indices of the output; absent inputs mean a float output. */
  readonly output: readonly [number, number];
  /** Attributes the float op keeps. */
  readonly keep: readonly string[];
  /** Attributes the float op gets when the QOperator node has none (the QOperator's own defaults). */
  readonly defaults?: Readonly<Record<string, Attribute>>;
  /** The per-channel axis of operand `i`'s scale (weights), when it has one scale per channel. */
  readonly channelAxis?: (node: Node, operand: number) => number;
}

const MS = 'com.microsoft';
const CONV_ATTRIBUTES = ['auto_pad', 'dilations', 'group', 'kernel_shape', 'pads', 'strides'];

const FORMS: ReadonlyMap<string, QOperatorForm> = new Map<string, QOperatorForm>([
  ['onnx.QLinearConv', { op: 'onnx.Conv', operands: [[0, 1, 2], [3, 4, 5]], bias: { index: 8, scales: [1, 4] }, output: [6, 7], keep: CONV_ATTRIBUTES, channelAxis: () => 0 }],
  ['onnx.QLinearMatMul', { op: 'onnx.MatMul', operands: [[0, 1, 2], [3, 4, 5]], output: [6, 7], keep: [], channelAxis: () => 1 }],
  [
    `${MS}.QGemm`,
    {
      op: 'onnx.Gemm',
      operands: [[0, 1, 2], [3, 4, 5]],
      bias: { index: 6, scales: [1, 4] },
      output: [7, 8],
      keep: ['alpha', 'transA', 'transB'],
      channelAxis: (node) => ((node.optionalAttr('transB', 'int') ?? 0) === 1 ? 0 : 1),
    },
  ],
  [`${MS}.QLinearAdd`, { op: 'onnx.Add', operands: [[0, 1, 2], [3, 4, 5]], output: [6, 7], keep: [] }],
  [`${MS}.QLinearMul`, { op: 'onnx.Mul', operands: [[0, 1, 2], [3, 4, 5]], output: [6, 7], keep: [] }],
  [`${MS}.QLinearSigmoid`, { op: 'onnx.Sigmoid', operands: [[0, 1, 2]], output: [3, 4], keep: [] }],
  [`${MS}.QLinearAveragePool`, { op: 'onnx.AveragePool', operands: [[0, 1, 2]], output: [3, 4], keep: ['auto_pad', 'ceil_mode', 'count_include_pad', 'kernel_shape', 'pads', 'strides'] }],
  [`${MS}.QLinearGlobalAveragePool`, { op: 'onnx.GlobalAveragePool', operands: [[0, 1, 2]], output: [3, 4], keep: [] }],
  [`${MS}.QLinearLeakyRelu`, { op: 'onnx.LeakyRelu', operands: [[0, 1, 2]], output: [3, 4], keep: ['alpha'] }],
  // Its axis defaults to the last; a Softmax over one axis (ONNX 13's meaning) whatever the model's opset says.
  [`${MS}.QLinearSoftmax`, { op: 'onnx.Softmax', operands: [[0, 1, 2]], output: [3, 4], keep: ['axis'], defaults: { axis: attrs.int(-1) } }],
]);

/** com.microsoft QLinearConcat: Y_scale, Y_zero_point, then one (X, X_scale, X_zero_point) triple per input. */
const QLINEAR_CONCAT = `${MS}.QLinearConcat`;

function concatForm(node: Node): QOperatorForm {
  const operands = Array.from({ length: Math.floor((node.inputs.length - 2) / 3) }, (_, i) => [2 + 3 * i, 3 + 3 * i, 4 + 3 * i] as const);
  return { op: 'onnx.Concat', operands, output: [0, 1], keep: ['axis'] };
}

/** Ops that move integers without arithmetic: on a quantized input they compute the same integers as on its reals. */
const INTEGER_MOVERS = new Set(['onnx.MaxPool', 'onnx.Flatten', 'onnx.Reshape', 'onnx.Transpose', 'onnx.Squeeze', 'onnx.Unsqueeze', 'onnx.Identity']);

export function isQOperator(op: string): boolean {
  return FORMS.has(op) || op === QLINEAR_CONCAT;
}

function keptAttributes(node: Node, names: readonly string[]): Record<string, Attribute> {
  const kept: Record<string, Attribute> = {};
  for (const name of names) {
    const attribute = node.getAttribute(name);
    if (attribute) kept[name] = attribute;
  }
  return kept;
}

function realsType(value: Value): Value['type'] {
  return tensorType('float32', isTensorType(value.type) ? value.type.shape : null);
}

/** The bias' scale: the two operand scales multiplied (per channel when the weight's is). */
function biasScale(node: Node, at: Builder, indices: readonly [number, number]): Value | undefined {
  const a = constantOf(node.inputs[indices[0]]);
  const b = constantOf(node.inputs[indices[1]]);
  if (!a || !b) return undefined;
  const x = a.toNumbers()[0]!;
  const products = b.toNumbers().map((s) => Math.fround(x * s));
  return at.constant(Tensor.fromValues('float32', b.size === 1 ? [] : [products.length], products), `${node.name}_bias_scale`);
}

function expand(node: Node, form: QOperatorForm): void {
  const at = Builder.before(node);
  const inputs: (Value | null)[] = form.operands.map(([integers, scale, zeroPoint], operand) => {
    const perChannel = (constantOf(node.inputs[scale])?.size ?? 1) > 1;
    const axis = perChannel && form.channelAxis ? { axis: attrs.int(form.channelAxis(node, operand)) } : {};
    const source = node.input(integers);
    return at.op1('onnx.DequantizeLinear', [source, node.input(scale), node.inputs[zeroPoint] ?? null], axis, { types: [realsType(source)], name: `${node.name}_dq${operand}` });
  });
  if (form.bias && node.inputs[form.bias.index]) {
    const scale = biasScale(node, at, form.bias.scales);
    const bias = node.input(form.bias.index);
    if (scale && constantOf(bias)?.dtype === 'int32') {
      const axis = constantOf(scale)!.size > 1 ? { axis: attrs.int(0) } : {};
      inputs.push(at.op1('onnx.DequantizeLinear', [bias, scale], axis, { types: [realsType(bias)], name: `${node.name}_bias_dq` }));
    } else {
      inputs.push(bias);
    }
  }
  const output = node.output(0);
  const [scale, zeroPoint] = form.output;
  const reals = at.op1(form.op, inputs, { ...form.defaults, ...keptAttributes(node, form.keep) }, { types: [realsType(output)], name: node.name });
  if (!node.inputs[scale]) {
    output.replaceAllUsesWith(reals);
  } else {
    const quantized = at.op1('onnx.QuantizeLinear', [reals, node.input(scale), node.inputs[zeroPoint] ?? null], {}, { types: [output.type], name: `${node.name}_q` });
    output.replaceAllUsesWith(quantized);
  }
  node.erase();
}

/** The scale and zero point that describe `value`'s integers, when a QuantizeLinear (or a mover of one) made them. */
function integerParams(value: Value | null | undefined, known: Map<Value, readonly (Value | null)[]>): readonly (Value | null)[] | undefined {
  if (!value) return undefined;
  const cached = known.get(value);
  if (cached) return cached;
  const producer = value.producer;
  if (producer?.op === 'onnx.QuantizeLinear' && producer.inputs[1] && !producer.optionalAttr('axis', 'int')) return [producer.inputs[1], producer.inputs[2] ?? null];
  return undefined;
}

/** MaxPool/Flatten/… on integers → DequantizeLinear → the op on reals → QuantizeLinear, same parameters. */
function wrapIntegerMovers(graph: Graph): void {
  const known = new Map<Value, readonly (Value | null)[]>();
  for (const node of graph.nodeList()) {
    if (!INTEGER_MOVERS.has(node.op)) continue;
    const input = node.inputs[0];
    const params = integerParams(input, known);
    if (!input || !params || (isTensorType(input.type) && input.type.dtype === 'float32')) continue;
    const output = node.output(0);
    const integerType = output.type;
    const at = Builder.before(node);
    node.setInput(0, at.op1('onnx.DequantizeLinear', [input, ...params], {}, { types: [realsType(input)], name: `${node.name}_dq` }));
    output.type = realsType(output);
    const after = Builder.after(node);
    const quantize = after.create('onnx.QuantizeLinear', [output, ...params], {}, { types: [integerType], name: `${node.name}_q` });
    output.replaceAllUsesWith(quantize.output(0), { except: quantize });
    known.set(quantize.output(0), params);
  }
}

/** Rewrites every QOperator node of the main graph into QDQ form; returns how many. */
export function expandQOperators(graph: Graph): number {
  let count = 0;
  for (const node of graph.nodeList()) {
    const form = node.op === QLINEAR_CONCAT ? concatForm(node) : FORMS.get(node.op);
    if (!form) continue;
    expand(node, form);
    count++;
  }
  // Also QDQ models with data movement on the integers (quantize-static's Q → Flatten/Reshape/Transpose → DQ).
  wrapIntegerMovers(graph);
  return count;
}
