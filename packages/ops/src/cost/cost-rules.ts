/**
 * Per-op cost rules: how many multiply-accumulates (MACs) and floating-point operations (FLOPs) one
 * node performs, computed from its operands' and results' static shapes. One rule per op, kept in a
 * registry (`CostRules`) so a plugin can add rules for its own ops.
 *
 * Conventions (those of fvcore/ptflops-style counters, stated so figures can be compared):
 * - A MAC is one multiply plus one add; it counts as 2 FLOPs. A bias add is 1 FLOP per output.
 * - Elementwise ops cost 1 FLOP per output element (transcendental ones too).
 * - BatchNormalization (inference) costs 2 FLOPs per element (a scale and a shift).
 * - Pools cost one FLOP per window element per output; global pools one per input element.
 * - Data movement (Reshape, Transpose, Concat, Gather, …) costs 0 FLOPs but is counted (known).
 */
import type { Node, Type } from '@modelpass/ir';
import { registerQuantizedCostRules } from './quantized-cost-rules.js';
import { registerTfliteCostRules } from './tflite-cost-rules.js';

/** What a rule sees: static shapes of operands and results (`undefined` when not static). */
export interface CostContext {
  readonly node: Node;
  /** The static shape of input `index`, or undefined (omitted, unknown or symbolic). */
  inputShape(index: number): readonly number[] | undefined;
  /** The static shape of output `index`, or undefined. */
  outputShape(index: number): readonly number[] | undefined;
  /** The type the analysis uses for input `index`. */
  inputType(index: number): Type | undefined;
}

export interface NodeCost {
  readonly macs: number;
  readonly flops: number;
}

/** Returns the cost, or a string saying why it cannot be counted (e.g. a shape is not static). */
export type CostRule = (context: CostContext) => NodeCost | string;

export const elementCountOf = (shape: readonly number[]): number => shape.reduce((n, d) => n * d, 1);

const NEEDS_SHAPES = 'its operand or result shapes are not static';

function perOutputElement(flopsPerElement: number): CostRule {
  return (context) => {
    const out = context.outputShape(0);
    if (!out) return NEEDS_SHAPES;
    return { macs: 0, flops: flopsPerElement * elementCountOf(out) };
  };
}

function perInputElement(flopsPerElement: number): CostRule {
  return (context) => {
    const input = context.inputShape(0);
    if (!input) return NEEDS_SHAPES;
    return { macs: 0, flops: flopsPerElement * elementCountOf(input) };
  };
}

const free: CostRule = () => ({ macs: 0, flops: 0 });

/** Conv: every output element is a dot product over (C/group)·k₁·k₂·… inputs. */
const conv: CostRule = (context) => {
  const out = context.outputShape(0);
  const weight = context.inputShape(1);
  if (!out || !weight || weight.length < 2) return NEEDS_SHAPES;
  const macs = elementCountOf(out) * elementCountOf(weight.slice(1));
  const bias = context.node.inputs[2] ? elementCountOf(out) : 0;
  return { macs, flops: 2 * macs + bias };
};

/** ConvTranspose: every input element is scattered through (M/group)·k₁·k₂·… weights. */
const convTranspose: CostRule = (context) => {
  const input = context.inputShape(0);
  const out = context.outputShape(0);
  const weight = context.inputShape(1);
  if (!input || !out || !weight || weight.length < 2) return NEEDS_SHAPES;
  const macs = elementCountOf(input) * elementCountOf(weight.slice(1));
  const bias = context.node.inputs[2] ? elementCountOf(out) : 0;
  return { macs, flops: 2 * macs + bias };
};

/** Gemm: Y = alpha·A'·B' + beta·C with A' [M,K]; K from A respecting transA. */
const gemm: CostRule = (context) => {
  const a = context.inputShape(0);
  const out = context.outputShape(0);
  if (!a || a.length !== 2 || !out) return NEEDS_SHAPES;
  const k = context.node.attr('transA', 'int', 0) ? a[0]! : a[1]!;
  const macs = elementCountOf(out) * k;
  const bias = context.node.inputs[2] ? elementCountOf(out) : 0;
  return { macs, flops: 2 * macs + bias };
};

/** MatMul (numpy semantics): every output element is a dot product over A's last dim. */
const matMul: CostRule = (context) => {
  const a = context.inputShape(0);
  const out = context.outputShape(0);
  if (!a || a.length === 0 || !out) return NEEDS_SHAPES;
  const macs = elementCountOf(out) * a[a.length - 1]!;
  return { macs, flops: 2 * macs };
};

const pool: CostRule = (context) => {
  const out = context.outputShape(0);
  if (!out) return NEEDS_SHAPES;
  const kernel = context.node.optionalAttr('kernel_shape', 'ints');
  if (!kernel) return `it has no kernel_shape`;
  return { macs: 0, flops: elementCountOf(out) * elementCountOf(kernel) };
};

const ELEMENTWISE = [
  'Add', 'Sub', 'Mul', 'Div', 'Pow', 'Max', 'Min', 'Sum', 'Mean', 'Relu', 'LeakyRelu', 'PRelu', 'Elu', 'Selu', 'Celu',
  'Sigmoid', 'HardSigmoid', 'HardSwish', 'Tanh', 'Gelu', 'Erf', 'Exp', 'Log', 'Sqrt', 'Reciprocal', 'Neg', 'Abs', 'Clip',
  'Softplus', 'Softsign', 'Mish', 'ThresholdedRelu', 'Sin', 'Cos', 'Floor', 'Ceil', 'Round', 'Sign', 'Mod',
  'Equal', 'Less', 'Greater', 'LessOrEqual', 'GreaterOrEqual', 'Not', 'And', 'Or', 'Xor', 'Where',
  'QuantizeLinear', 'DequantizeLinear', 'Dropout', 'Shrink', 'IsNaN', 'IsInf', 'BitShift',
] as const;

const DATA_MOVEMENT = [
  'Reshape', 'Flatten', 'Transpose', 'Identity', 'Squeeze', 'Unsqueeze', 'Shape', 'Size', 'Concat', 'Split', 'Slice',
  'Gather', 'GatherElements', 'GatherND', 'Expand', 'Tile', 'Pad', 'Cast', 'CastLike', 'Constant', 'ConstantOfShape',
  'DepthToSpace', 'SpaceToDepth', 'Range', 'Resize', 'ScatterND', 'ScatterElements', 'NonZero', 'OneHot',
  'SequenceEmpty', 'SequenceConstruct', 'SequenceInsert', 'SequenceAt', 'SequenceErase', 'SequenceLength',
  'ConcatFromSequence', 'SplitToSequence', 'Optional', 'OptionalGetElement', 'OptionalHasElement', 'ReverseSequence', 'Compress',
] as const;

const REDUCTIONS = [
  'ReduceMean', 'ReduceSum', 'ReduceMax', 'ReduceMin', 'ReduceProd', 'ReduceL1', 'ReduceL2', 'ReduceSumSquare',
  'ReduceLogSum', 'ReduceLogSumExp', 'ArgMax', 'ArgMin',
] as const;

/** A registry of cost rules by op (`onnx.Conv`). */
export class CostRules {
  private readonly rules = new Map<string, CostRule>();

  register(op: string, rule: CostRule): this {
    this.rules.set(op, rule);
    return this;
  }

  get(op: string): CostRule | undefined {
    return this.rules.get(op);
  }

  has(op: string): boolean {
    return this.rules.has(op);
  }

  ops(): string[] {
    return [...this.rules.keys()];
  }
}

/** The rules for the canonical (ONNX) op set and the quantized ops (quantized-cost-rules.ts). */
export function createCostRules(): CostRules {
  const rules = new CostRules()
    .register('onnx.Conv', conv)
    .register('onnx.ConvTranspose', convTranspose)
    .register('onnx.Gemm', gemm)
    .register('onnx.MatMul', matMul)
    .register('onnx.MaxPool', pool)
    .register('onnx.AveragePool', pool)
    .register('onnx.LpPool', pool)
    .register('onnx.GlobalAveragePool', perInputElement(1))
    .register('onnx.GlobalMaxPool', perInputElement(1))
    .register('onnx.BatchNormalization', perOutputElement(2))
    .register('onnx.InstanceNormalization', perInputElement(4))
    .register('onnx.LayerNormalization', perInputElement(5))
    .register('onnx.Softmax', perOutputElement(3))
    .register('onnx.LogSoftmax', perOutputElement(3));
  for (const op of ELEMENTWISE) rules.register(`onnx.${op}`, perOutputElement(1));
  for (const op of REDUCTIONS) rules.register(`onnx.${op}`, perInputElement(1));
  for (const op of DATA_MOVEMENT) rules.register(`onnx.${op}`, free);
  registerQuantizedCostRules(rules);
  registerTfliteCostRules(rules);
  return rules;
}
