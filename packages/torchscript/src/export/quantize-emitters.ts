/**
 * QuantizeLinear / DequantizeLinear (QDQ models, quantize-static's output) as the integer and float
 * arithmetic ONNX defines, in plain `torch.*` calls (no torch quantized tensors, whose kernels and
 * rounding are torch's own): DequantizeLinear `(x − zero_point) · scale`, the subtraction in int64
 * then one float32 multiply; QuantizeLinear `clamp(round(x / scale) + zero_point)` with round half
 * to even (torch.round, as ONNX's nearbyint), then the integer dtype. Per-tensor and per-axis
 * parameters; blocked quantization, float8/int4 and non-float32 scales are refused by name.
 */
import { isTensorType, type Node, type Value } from '@modelpass/ir';
import { pyFloat, type EmitContext, type OpEmitter } from './emit-context.js';

/** Integer dtypes torch 1.13 has, with its ScalarType code and range. */
const INTEGER_TYPES: Readonly<Record<string, { code: number; low: number; high: number }>> = {
  uint8: { code: 0, low: 0, high: 255 },
  int8: { code: 1, low: -128, high: 127 },
  int16: { code: 2, low: -32768, high: 32767 },
  int32: { code: 3, low: -2147483648, high: 2147483647 },
};
const FLOAT32 = 6;
const INT64 = 4;

const dtypeOf = (value: Value | null | undefined): string | undefined => (value && isTensorType(value.type) ? value.type.dtype : undefined);

/**
 * The scale or zero point ready to broadcast against `x`: as it is when per-tensor, reshaped to
 * [1, …, C, …, 1] along `axis` when it is a vector of C > 1 values.
 */
function broadcastParameter(e: EmitContext, node: Node, parameter: Value, xRankOf: Value | null): string {
  const name = e.name(parameter);
  const constant = e.constantOf(parameter);
  const rank = e.rank(parameter);
  const size = constant?.size ?? (isTensorType(parameter.type) && parameter.type.shape?.every((d): d is number => typeof d === 'number') ? parameter.type.shape.reduce((a, b) => a * b, 1) : undefined);
  if (rank === 0 || size === 1) return name;
  if (rank !== 1) return e.fail(node, `a scale or zero point of rank ${rank ?? 'unknown'} (blocked quantization is not written)`);
  const xRank = e.rank(xRankOf);
  if (xRank === undefined) return e.fail(node, "per-axis parameters on an input whose rank is unknown");
  const rawAxis = node.attr('axis', 'int', 1);
  const axis = rawAxis < 0 ? rawAxis + xRank : rawAxis;
  if (axis < 0 || axis >= xRank) return e.fail(node, `axis ${rawAxis} outside a rank-${xRank} input`);
  const shape = Array.from({ length: xRank }, (_, i) => (i === axis ? -1 : 1));
  return `torch.reshape(${name}, [${shape.join(', ')}])`;
}

function checkCommon(e: EmitContext, node: Node): void {
  if (node.attr('block_size', 'int', 0) !== 0) e.fail(node, 'blocked quantization (block_size)');
  const scaleType = dtypeOf(node.inputs[1]);
  if (scaleType !== undefined && scaleType !== 'float32') e.fail(node, `a ${scaleType} scale (float32 expected)`);
}

const dequantizeLinear: OpEmitter = (e, node) => {
  checkCommon(e, node);
  const x = node.inputs[0] ?? null;
  const integer = INTEGER_TYPES[dtypeOf(x) ?? ''];
  if (!integer) e.fail(node, `${dtypeOf(x) ?? 'an unknown'} input (uint8, int8, int16 or int32 expected)`);
  const scale = broadcastParameter(e, node, node.input(1), x);
  const zeroPoint = node.inputs[2] ? broadcastParameter(e, node, node.input(2), x) : undefined;
  const wide = `torch.to(${e.name(x)}, ${INT64}, False, False, None)`;
  const centred = zeroPoint ? `torch.sub(${wide}, torch.to(${zeroPoint}, ${INT64}, False, False, None))` : wide;
  e.assign(node, `torch.mul(torch.to(${centred}, ${FLOAT32}, False, False, None), ${scale})`);
};

const quantizeLinear: OpEmitter = (e, node) => {
  checkCommon(e, node);
  const x = node.inputs[0] ?? null;
  if (dtypeOf(x) !== undefined && dtypeOf(x) !== 'float32') e.fail(node, `a ${dtypeOf(x)} input (float32 expected)`);
  const outputType = dtypeOf(node.output(0)) ?? dtypeOf(node.inputs[2]) ?? 'uint8';
  const integer = INTEGER_TYPES[outputType];
  if (!integer) return e.fail(node, `${outputType} output (uint8, int8, int16 or int32 expected)`);
  const scale = broadcastParameter(e, node, node.input(1), x);
  const rounded = `torch.round(torch.div(${e.name(x)}, ${scale}))`;
  const shifted = node.inputs[2] ? `torch.add(${rounded}, torch.to(${broadcastParameter(e, node, node.input(2), x)}, ${FLOAT32}, False, False, None))` : rounded;
  // int32's bounds are not float32 numbers: clamp in float64 there.
  const working = outputType === 'int32' ? `torch.to(${shifted}, 7, False, False, None)` : shifted;
  e.assign(node, `torch.to(torch.clamp(${working}, ${pyFloat(integer.low)}, ${pyFloat(integer.high)}), ${integer.code}, False, False, None)`);
};

export const quantizeEmitters: ReadonlyArray<[string, OpEmitter]> = [
  ['onnx.DequantizeLinear', dequantizeLinear],
  ['onnx.QuantizeLinear', quantizeLinear],
];
