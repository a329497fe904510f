/**
 * Whether one node can be part of a quantized group at all, looking only at the node: its inputs'
 * dtypes and constness, weights and biases, attributes, and the graph interface. The answer is a
 * reason when it cannot (the pass reports it in `--debug` and the report).
 */
import { isTensorType, type Node, type Value } from '@modelpass/ir';
import type { OpRule } from './op-rules.js';

/**
 * A DequantizeLinear output is quantized data already (a weight stored int8, or an activation of a QDQ model):
 * quantizing it again rounds it a second time on a per-tensor grid of its own (QA s12: quantize-static run on
 * its own output took a TransformerEncoder's MatMul weights for activations; cosine 0.9998 → 0.955).
 */
function isDequantized(value: Value | null | undefined): boolean {
  return value?.producer?.op === 'onnx.DequantizeLinear';
}

function isFloatActivation(value: Value | null | undefined): boolean {
  if (!value || value.constant !== undefined || value.sparseConstant !== undefined) return false;
  if (isDequantized(value)) return false;
  return isTensorType(value.type) && value.type.dtype === 'float32' && value.type.quant === undefined;
}

function isFloatConstant(value: Value | null | undefined): value is Value {
  return !!value && value.constant !== undefined && !value.isGraphInput && value.constant.dtype === 'float32';
}

/** A constant scalar of a node input (Clip's min/max, ...); undefined when absent or not constant. */
export function constantScalar(value: Value | null | undefined): number | undefined {
  const tensor = value?.constant;
  if (!tensor || tensor.size !== 1 || tensor.dtype === 'string') return undefined;
  return Number(tensor.toNumbers()[0]);
}

/** Clip's constant bounds, from inputs (opset ≥ 11) or attributes (older); undefined when not constant. */
export function clipBounds(node: Node): { min: number | undefined; max: number | undefined } | undefined {
  if (node.hasAttribute('min') || node.hasAttribute('max')) {
    return { min: node.optionalAttr('min', 'float'), max: node.optionalAttr('max', 'float') };
  }
  const minInput = node.inputs[1];
  const maxInput = node.inputs[2];
  const min = minInput ? constantScalar(minInput) : undefined;
  const max = maxInput ? constantScalar(maxInput) : undefined;
  if ((minInput && min === undefined) || (maxInput && max === undefined)) return undefined;
  return { min, max };
}

type Check = (node: Node) => string | undefined;

const convolutionCheck: Check = (node) => {
  if (!isFloatActivation(node.inputs[0])) return 'its input is not a float32 activation';
  if (!isFloatConstant(node.inputs[1])) return 'its weight is not a float32 constant';
  const bias = node.inputs[2];
  if (bias && (!isFloatConstant(bias) || bias.constant!.rank !== 1)) return 'its bias is not a 1-D float32 constant';
  return undefined;
};

const weightedChecks: Readonly<Record<string, Check>> = {
  'onnx.Conv': convolutionCheck,
  // full-integer only (FULL_INTEGER_RULES): per-channel along the output channels (axis 1 of [Cin, Cout/group, k…]).
  'onnx.ConvTranspose': (node) => {
    if ((node.optionalAttr('group', 'int') ?? 1) !== 1) return 'it is grouped (int8 targets take a ConvTranspose with one group: TFLite TRANSPOSE_CONV)';
    return convolutionCheck(node);
  },
  'onnx.MatMul': (node) => {
    if (!isFloatActivation(node.inputs[0])) return 'its first input is not a float32 activation';
    const b = node.inputs[1];
    if (isFloatConstant(b)) return b.constant!.rank >= 2 ? undefined : 'its weight is 1-D';
    if (!isFloatActivation(b)) return 'its second input is neither a float32 constant nor a float32 activation';
    return undefined;
  },
  'onnx.Gemm': (node) => {
    if (!isFloatActivation(node.inputs[0])) return 'its A input is not a float32 activation';
    const b = node.inputs[1];
    if (!isFloatConstant(b) || b.constant!.rank !== 2) return 'its B input is not a 2-D float32 constant';
    const c = node.inputs[2];
    if (c) {
      const n = b.constant!.shape[node.optionalAttr('transB', 'int') ? 0 : 1]!;
      if (!isFloatConstant(c) || c.constant!.size !== n || (c.constant!.rank === 2 && c.constant!.shape[0] !== 1)) {
        return `its C input is not a float32 constant of ${n} values (one per output feature)`;
      }
    }
    return undefined;
  },
};

/**
 * Own-range ops whose float constant operand (a bias, a LayerNorm scale, a positional embedding, a ViT's class
 * token concatenated before the patches) full-integer quantizes like an activation (its own per-tensor range).
 */
const CONSTANT_OPERAND_OPS: ReadonlySet<string> = new Set(['onnx.Add', 'onnx.Mul', 'onnx.Concat', 'onnx.PRelu']);

function checkOwnRange(node: Node, rule: OpRule, constantOperands: boolean): string | undefined {
  let activations = 0;
  for (const index of rule.activationInputs(node)) {
    const input = node.inputs[index];
    if (constantOperands && CONSTANT_OPERAND_OPS.has(node.op) && isFloatConstant(input)) continue;
    if (!isFloatActivation(input)) {
      return input?.constant !== undefined
        ? `input #${index} is a constant (only activations are quantized here${CONSTANT_OPERAND_OPS.has(node.op) ? '; full-integer=true quantizes it' : ''})`
        : `input #${index} is not a float32 activation`;
    }
    activations++;
  }
  return activations === 0 ? 'all its inputs are constants' : undefined;
}

/** Data movers whose float constant data input full-integer quantizes (see `hasConstantData`). */
const CONSTANT_DATA_OPS: ReadonlySet<string> = new Set(['onnx.Gather', 'onnx.Expand', 'onnx.Tile']);

/**
 * full-integer: a Gather of a float constant by run-time indices (an embedding table read by token ids), or an
 * Expand/Tile of one to a run-time shape (a ViT's class token expanded to the batch of a dynamic-batch export),
 * quantizes the constant on its own per-tensor range, and the rows gathered or copies made take its parameters
 * (TFLite GATHER, BROADCAST_TO, TILE int8: they copy integers).
 */
export function hasConstantData(node: Node): boolean {
  return CONSTANT_DATA_OPS.has(node.op) && isFloatConstant(node.inputs[0]);
}

function checkSharesInput(node: Node, constantOperands: boolean): string | undefined {
  if (!isFloatActivation(node.inputs[0]) && !(constantOperands && hasConstantData(node))) return 'its data input is not a float32 activation';
  if (node.outputs.length > 1 && node.outputs.slice(1).some((output) => output && output.uses.size > 0)) return 'a second output (indices) is used';
  if (node.op === 'onnx.Resize') {
    const mode = node.optionalAttr('mode', 'string') ?? 'nearest';
    if (mode === 'cubic') return 'cubic Resize has no integer kernel';
  }
  return undefined;
}

function checkActivation(node: Node): string | undefined {
  if (!isFloatActivation(node.inputs[0])) return 'its input is not a float32 activation';
  if (node.op === 'onnx.Clip') {
    const bounds = clipBounds(node);
    if (!bounds) {
      // torch's opset-11+ clamp reads its bounds from Constant nodes: simplify makes them initializers (QA s17, ReLU6)
      const fromConstantNodes = node.inputs.slice(1).some((bound) => bound?.producer?.op === 'onnx.Constant');
      return fromConstantNodes ? 'its bounds are not constants (they come from Constant nodes: run simplify first)' : 'its bounds are not constants';
    }
    if (bounds.min !== 0) return 'its minimum is not 0 (only a Clip from 0 is exact as a QuantizeLinear saturation)';
    if (bounds.max !== undefined && !(bounds.max > 0)) return 'its maximum is not positive';
  }
  return undefined;
}

/**
 * Why `node` cannot be quantized, or undefined when it can be (graph context aside). With `quantizeOutputs`
 * (quantize-static's quantize-outputs / full-integer) a graph output does not keep a node float: it gets a
 * QuantizeLinear → DequantizeLinear like any activation. With `constantOperands` (full-integer) an Add/Mul/Concat may read a
 * float constant, and a Gather may read rows of one (an Expand/Tile copies of one), which is then stored quantized with its own
 * per-tensor range.
 */
export function ineligibility(node: Node, rule: OpRule, quantizeOutputs = false, constantOperands = false): string | undefined {
  if (rule.role === 'weighted' && isDequantized(node.inputs[1])) return ALREADY_QUANTIZED;
  const dequantized = node.inputs.findIndex((input) => isDequantized(input));
  if (dequantized >= 0) return `input #${dequantized} is already quantized (a DequantizeLinear output)`;
  if (!quantizeOutputs && node.outputs.some((output) => output?.isGraphOutput) && rule.role !== 'weighted') return 'its output is a graph output (kept float32; quantize-outputs=true quantizes it)';
  if (!node.outputs[0] || !isTensorType(node.outputs[0].type) || node.outputs[0].type.dtype !== 'float32') return 'its output is not float32';
  switch (rule.role) {
    case 'weighted':
      return weightedChecks[node.op]?.(node);
    case 'own-range':
      return checkOwnRange(node, rule, constantOperands);
    case 'shares-input':
      return checkSharesInput(node, constantOperands);
    case 'fused-activation':
      return checkActivation(node);
    case 'composite': {
      const index = rule.activationInputs(node)[0]!;
      return isFloatActivation(node.inputs[index]) ? undefined : `input #${index} is not a float32 activation`;
    }
  }
}

/** The reason a Conv/MatMul/Gemm whose weight is read through a DequantizeLinear is left as it is. */
export const ALREADY_QUANTIZED = 'its weight is already quantized (read through a DequantizeLinear)';

export { isFloatActivation, isFloatConstant };
