/**
 * com.microsoft fusions (ONNX Runtime's optimizer writes them into saved models) spelled back as
 * canonical ops before lowering, so the ordinary rules take them:
 * - FusedConv → Conv (+ Add of the sum input Z) → its activation (Relu, Tanh, Sigmoid, LeakyRelu,
 *   Clip, HardSigmoid with `activation_params`);
 * - GroupNorm (NHWC input, ONNX Runtime's diffusion kernels) → Reshape to [N, H·W, G, C/G], mean and
 *   variance over H·W and C/G, normalize, Reshape back, per-channel gamma/beta, optional SiLU
 *   (x·Sigmoid(x)): all layout-agnostic, so no transpose appears.
 * What does not fit (unknown activation, missing shapes) stays and is refused per node.
 */
import { attrs, Builder, Tensor, type Attribute, type Model, type Node, type Value } from '@modelpass/ir';
import { constantOf } from '../constant-values.js';
import type { LoweringRule } from '../lowering-rule.js';
import { staticDims } from '../lowering-tools.js';

const MS = 'com.microsoft';
const FUSED_CONV = `${MS}.FusedConv`;
const GROUP_NORM = `${MS}.GroupNorm`;
/** The contrib ops `contribOpsAsCanonical` rewrites (legalize-tflite skips it for a model with none). */
export const CONTRIB_FORM_OPS: readonly string[] = [FUSED_CONV, GROUP_NORM];
const CONV_ATTRIBUTES = ['auto_pad', 'dilations', 'group', 'kernel_shape', 'pads', 'strides'];
const FUSED_ACTIVATIONS = ['Relu', 'Tanh', 'Sigmoid', 'LeakyRelu', 'Clip', 'HardSigmoid'];

function opsetOf(model: Model): number {
  return model.opset('onnx') ?? 17;
}

function fusedConvProblem(node: Node): string | undefined {
  const activation = node.optionalAttr('activation', 'string');
  if (activation !== undefined && !FUSED_ACTIVATIONS.includes(activation)) return `FusedConv activation '${activation}' is not supported (${FUSED_ACTIVATIONS.join(', ')})`;
  return undefined;
}

function activationAfter(at: Builder, x: Value, activation: string | undefined, params: readonly number[], opset: number): Value {
  const f = (value: number) => at.constant(Tensor.scalar('float32', value), 'activation_param');
  switch (activation) {
    case undefined:
      return x;
    case 'LeakyRelu':
      return at.op1('onnx.LeakyRelu', [x], { alpha: attrs.float(params[0] ?? 0.01) });
    case 'HardSigmoid':
      return at.op1('onnx.HardSigmoid', [x], { alpha: attrs.float(params[0] ?? 0.2), beta: attrs.float(params[1] ?? 0.5) });
    case 'Clip':
      if (opset < 11) return at.op1('onnx.Clip', [x], { min: attrs.float(params[0] ?? -3.4e38), max: attrs.float(params[1] ?? 3.4e38) });
      return at.op1('onnx.Clip', [x, f(params[0] ?? -3.4e38), f(params[1] ?? 3.4e38)]);
    default:
      return at.op1(`onnx.${activation}`, [x]);
  }
}

function fusedConvAsConv(node: Node, opset: number): boolean {
  if (fusedConvProblem(node)) return false;
  const at = Builder.before(node);
  const kept: Record<string, Attribute> = {};
  for (const name of CONV_ATTRIBUTES) {
    const attribute = node.getAttribute(name);
    if (attribute) kept[name] = attribute;
  }
  let y = at.op1('onnx.Conv', node.inputs.slice(0, 3), kept, { name: node.name });
  if (node.inputs[3]) y = at.op1('onnx.Add', [y, node.input(3)]);
  y = activationAfter(at, y, node.optionalAttr('activation', 'string'), node.optionalAttr('activation_params', 'floats') ?? [], opset);
  node.output(0).replaceAllUsesWith(y);
  node.erase();
  return true;
}

function groupNormProblem(node: Node): string | undefined {
  const dims = staticDims(node.inputs[0]);
  if (!dims || dims.length !== 4) return 'GroupNorm needs a static rank-4 input';
  if ((node.optionalAttr('channels_last', 'int') ?? 1) !== 1) return 'GroupNorm with channels_last=0 is not supported';
  const groups = node.optionalAttr('groups', 'int');
  if (!groups || dims[3]! % groups !== 0) return `groups ${String(groups)} does not divide the ${dims[3]} channels`;
  if (!constantOf(node.inputs[1]) || !constantOf(node.inputs[2])) return 'gamma and beta must be constants';
  return undefined;
}

function reduceMean(at: Builder, x: Value, axes: number[], opset: number): Value {
  if (opset >= 18) return at.op1('onnx.ReduceMean', [x, at.constant(Tensor.fromValues('int64', [axes.length], axes.map((a) => BigInt(a))), 'axes')], { keepdims: attrs.int(1) });
  return at.op1('onnx.ReduceMean', [x], { axes: attrs.ints(axes), keepdims: attrs.int(1) });
}

function groupNormAsCanonical(node: Node, opset: number): boolean {
  if (groupNormProblem(node)) return false;
  const at = Builder.before(node);
  const [n, h, w, c] = staticDims(node.inputs[0])!;
  const groups = node.attr('groups', 'int');
  const shape = (dims: number[]) => at.constant(Tensor.fromValues('int64', [dims.length], dims.map((d) => BigInt(d))), 'shape');
  const grouped = at.op1('onnx.Reshape', [node.input(0), shape([n!, h! * w!, groups, c! / groups])]);
  const mean = reduceMean(at, grouped, [1, 3], opset);
  const centred = at.op1('onnx.Sub', [grouped, mean]);
  const variance = reduceMean(at, at.op1('onnx.Mul', [centred, centred]), [1, 3], opset);
  const epsilon = at.constant(Tensor.scalar('float32', node.optionalAttr('epsilon', 'float') ?? 1e-5), 'epsilon');
  const normalized = at.op1('onnx.Div', [centred, at.op1('onnx.Sqrt', [at.op1('onnx.Add', [variance, epsilon])])]);
  const back = at.op1('onnx.Reshape', [normalized, shape([n!, h!, w!, c!])]);
  let y = at.op1('onnx.Add', [at.op1('onnx.Mul', [back, node.input(1)]), node.input(2)]);
  if ((node.optionalAttr('activation', 'int') ?? 0) === 1) y = at.op1('onnx.Mul', [y, at.op1('onnx.Sigmoid', [y])]);
  node.output(0).replaceAllUsesWith(y);
  node.erase();
  return true;
}

/** FusedConv and GroupNorm of the main graph as canonical ops; returns how many were rewritten. */
export function contribOpsAsCanonical(model: Model): number {
  let count = 0;
  for (const node of model.graph.nodeList()) {
    if (node.op === FUSED_CONV && fusedConvAsConv(node, opsetOf(model))) count++;
    else if (node.op === GROUP_NORM && groupNormAsCanonical(node, opsetOf(model))) count++;
  }
  return count;
}

export const contribFormRules: readonly LoweringRule[] = [
  { ops: [FUSED_CONV], stage: 'lower', targets: ['CONV_2D', 'DEPTHWISE_CONV_2D', 'ADD', 'RELU', 'TANH', 'LOGISTIC', 'LEAKY_RELU', 'MINIMUM', 'MAXIMUM'], check: (node) => fusedConvProblem(node) ?? 'FusedConv was not rewritten before lowering', lower: (node) => { throw node.error('FusedConv must be rewritten before lowering'); } },
  { ops: [GROUP_NORM], stage: 'lower', targets: ['RESHAPE', 'MEAN', 'SUB', 'MUL', 'ADD', 'SQRT', 'DIV', 'LOGISTIC'], check: (node) => groupNormProblem(node) ?? 'GroupNorm was not rewritten before lowering', lower: (node) => { throw node.error('GroupNorm must be rewritten before lowering'); } },
];
