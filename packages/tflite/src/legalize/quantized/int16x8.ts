import { Builder, isTensorType, Tensor, tensorType, type Graph, type Node, type QuantParams, type TensorType, type Value } from '@modelpass/ir';

/**
 * TFLite's 16x8 mode (int16 activations, int8 weights; quantize-static's `activations=int16`): its int16
 * kernels take symmetric activations only (zero point 0, TFLite's quantization spec), while ONNX Runtime's
 * int16 QDQ is asymmetric (quantize-static puts the zero point at −32768 after a Relu). Each int16 value
 * keeps the reals it covers, [(−32768 − z)·s, (32767 − z)·s], as a symmetric int16 range: scale
 * max(|low|, |high|) / 32767, zero point 0 (one bit less resolution, still ~2⁻¹⁵ of the range). The
 * saturation the asymmetric range gave for free is kept where it means something: a range that starts
 * at 0 (a folded Relu) becomes an explicit Relu after the op that computes it (fused into CONV_2D/
 * FULLY_CONNECTED/ADD), one over [0, 6] a Clip(0, 6) (RELU6).
 */

/** TFLite 2.9 ops with 16x8 kernels (int16 activations; the weighted ones with int8 weights and int64 bias). */
const INT16_OPS = new Set(
  [
    'Conv', 'Gemm', 'MatMul', 'Add', 'Sub', 'Mul', 'MaxPool', 'AveragePool', 'GlobalAveragePool', 'ReduceMean', 'ReduceMax', 'ReduceMin', 'Reshape', 'Flatten', 'Squeeze', 'Unsqueeze',
    'Transpose', 'Identity', 'Concat', 'Softmax', 'Sigmoid', 'Tanh', 'Relu', 'LeakyRelu', 'Clip', 'Slice', 'Split', 'Gather', 'Pad', 'Resize', 'Upsample',
  ].map((op) => `onnx.${op}`),
);

/** Ops whose output is never negative when their input is not: no Relu is needed after them. */
const SIGN_KEEPING = new Set(
  ['MaxPool', 'AveragePool', 'GlobalAveragePool', 'GlobalMaxPool', 'ReduceMean', 'ReduceMax', 'ReduceMin', 'Reshape', 'Flatten', 'Squeeze', 'Unsqueeze', 'Transpose', 'Identity', 'Concat', 'Relu', 'Clip', 'Slice', 'Split', 'Gather', 'Pad', 'Resize', 'Upsample', 'Sigmoid', 'Softmax'].map((op) => `onnx.${op}`),
);

export function int16Ops(): string[] {
  return [...INT16_OPS].sort();
}

/** Why the int16 `node` cannot be a TFLite 16x8 op, or undefined. */
export function int16OpProblem(node: Node): string | undefined {
  if (!INT16_OPS.has(node.op)) return `${node.op} on int16 activations has no TFLite 2.9 16x8 kernel (16x8 ops: ${int16Ops().map((op) => op.slice(5)).join(', ')})`;
  // MIRROR_PAD: TFLite 2.9's kernel fails on int16 at run time ("MIRROR_PAD failed to invoke"). Edge and wrap are GATHERs
  // (`pad-edge-wrap.ts`), which take int16.
  if (node.op === 'onnx.Pad' && node.optionalAttr('mode', 'string') === 'reflect') {
    return `an int16 Pad in mode 'reflect' has no TFLite 2.9 kernel (its MIRROR_PAD takes float32, int8 and uint8; constant, edge and wrap padding work)`;
  }
  return undefined;
}

function isInt16Activation(value: Value | null | undefined): value is Value {
  return !!value && !value.isConstant && isTensorType(value.type) && value.type.dtype === 'int16' && value.type.quant !== undefined;
}

/** The reals an int16 tensor of `quant` covers. */
function coveredReals(quant: QuantParams): [number, number] {
  const [scale, zeroPoint] = [quant.scale[0]!, quant.zeroPoint[0]!];
  return [(-32768 - zeroPoint) * scale, (32767 - zeroPoint) * scale];
}

/** True when the model has int16 quantized activations (the 16x8 mode). */
export function hasInt16Activations(graph: Graph): boolean {
  return [...graph.definedValues()].some((value) => isInt16Activation(value));
}

/** Relu (or Clip(0, 6)) after `producer`'s output `value`, which keeps `value`'s type; its readers read the result. */
function clampAfter(value: Value, high: number | undefined): void {
  const producer = value.producer!;
  const at = Builder.after(producer);
  const type = value.type as TensorType;
  const clamp =
    high === undefined
      ? at.create('onnx.Relu', [value], {}, { types: [type], name: `${producer.name}_relu16` })
      : at.create('onnx.Clip', [value, at.constant(Tensor.scalar('float32', 0), 'zero'), at.constant(Tensor.scalar('float32', high), 'six')], {}, { types: [type], name: `${producer.name}_relu6_16` });
  value.replaceAllUsesWith(clamp.output(0), { except: clamp });
}

/**
 * Rewrites every int16 activation's parameters to symmetric ones (zero point 0) covering the same
 * reals, with a Relu / Clip(0, 6) where the asymmetric range clamped at 0 (and 6). Returns how many
 * values changed and how many clamps were added.
 */
export function symmetricInt16Activations(graph: Graph): { values: number; clamps: number } {
  let values = 0;
  let clamps = 0;
  for (const value of [...graph.definedValues()]) {
    if (!isInt16Activation(value)) continue;
    const type = value.type as TensorType;
    const quant = type.quant!;
    if (quant.axis !== undefined || quant.zeroPoint[0] === 0) continue;
    const [low, high] = coveredReals(quant);
    const peak = Math.max(Math.abs(low), Math.abs(high));
    value.type = tensorType('int16', type.shape, { scale: [Math.fround(peak / 32767 || 1)], zeroPoint: [0], bits: 16 });
    values++;
    const producer = value.producer;
    // Only a range that starts at 0 (a Relu quantize-static folded into the range) saturated on purpose.
    if (!producer || SIGN_KEEPING.has(producer.op) || Math.abs(low) > quant.scale[0]! / 2 || value.isGraphOutput) continue;
    clampAfter(value, Math.abs(high - 6) <= quant.scale[0]! * 2 ? 6 : undefined);
    clamps++;
  }
  return { values, clamps };
}
