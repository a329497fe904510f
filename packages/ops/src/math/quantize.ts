import { dtypeFromOnnxCode, tensorType, type DType, type Node, type Tensor } from '@modelpass/ir';
import { defineCanonicalOp, type CanonicalOp, type KernelContext } from '../op-definition.js';
import { allocateElements, readElements, integerRange, readNumbers, roundHalfToEven, tensorFromElements } from '../util/elements.js';
import { inputTensorType } from '../util/inference.js';
import { inputTensor, opError, optionalInputTensor } from '../util/kernel-io.js';
import { normalizeAxis, stridesOf } from '../util/shape.js';
import { unsaturated } from './cast.js';
import { verifyLinearQuantization } from '../verify/quantize-checks.js';
import { elementClassOf } from './element-class.js';

/**
 * For each element of `x`, the flat index of its scale / zero point: per-tensor (one value),
 * per-axis (a 1-D parameter along `axis`) or blocked (a parameter of x's rank whose `axis` dim is
 * ceil(dim / blockSize), opset 21).
 */
export function quantParamIndexMap(xShape: readonly number[], paramShape: readonly number[], axisAttribute: number, blockSize: number, node?: Node): Int32Array {
  const count = xShape.reduce((a, b) => a * b, 1);
  const map = new Int32Array(count);
  const paramCount = paramShape.reduce((a, b) => a * b, 1);
  if (paramCount === 1 && blockSize <= 0) return map;
  const rank = xShape.length;
  const axis = normalizeAxis(axisAttribute, rank, node);
  const strides = stridesOf(xShape);
  if (blockSize <= 0) {
    if (paramShape.length !== 1 || paramShape[0] !== xShape[axis]) {
      throw opError(node, 'per-axis scale must be 1-D with one value per element of the quantization axis', {
        expected: `[${xShape[axis]}]`,
        actual: `[${paramShape.join(',')}]`,
      });
    }
    for (let i = 0; i < count; i++) map[i] = Math.floor(i / strides[axis]!) % xShape[axis]!;
    return map;
  }
  const blocks = Math.ceil(xShape[axis]! / blockSize);
  const expected = xShape.map((dim, d) => (d === axis ? blocks : dim));
  if (paramShape.length !== rank || paramShape.some((dim, d) => dim !== expected[d])) {
    throw opError(node, `blocked quantization (block_size ${blockSize}) needs a scale of shape [${expected.join(',')}]`, { actual: `[${paramShape.join(',')}]` });
  }
  const paramStrides = stridesOf(expected);
  for (let i = 0; i < count; i++) {
    let index = 0;
    for (let d = 0; d < rank; d++) {
      const coordinate = Math.floor(i / strides[d]!) % xShape[d]!;
      index += (d === axis ? Math.floor(coordinate / blockSize) : coordinate) * paramStrides[d]!;
    }
    map[i] = index;
  }
  return map;
}

function quantizedDType(node: Node, zeroPoint: DType | undefined): DType {
  if (zeroPoint) return zeroPoint;
  const code = node.attr('output_dtype', 'int', 0);
  if (code === 0) return 'uint8';
  const dtype = dtypeFromOnnxCode(code);
  if (!dtype) throw opError(node, `unknown output_dtype ${code}`, { expected: 'a TensorProto.DataType code' });
  return dtype;
}

/** Quantizes one value: round(x / scale) + zero point, saturated to the target's range. */
function quantizeValue(x: number, scale: number, zeroPoint: number, target: DType, saturate: boolean, computeInFloat32: boolean): number {
  let scaled = x / scale;
  if (computeInFloat32) scaled = Math.fround(scaled);
  if (elementClassOf(target) === 'float') {
    const value = scaled + zeroPoint;
    return saturate ? value : unsaturated(value, target);
  }
  const range = integerRange(target)!;
  const value = roundHalfToEven(scaled) + zeroPoint;
  return Number.isNaN(value) ? 0 : Math.min(range.max, Math.max(range.min, value));
}

const quantAttributes = {
  axis: { kind: 'int', default: 1, doc: 'opset 13: the per-axis / blocked quantization axis' },
  saturate: { kind: 'int', default: 1, oneOf: [0, 1], doc: 'opset 19: float8 targets saturate' },
  block_size: { kind: 'int', default: 0, doc: 'opset 21: blocked quantization along axis' },
} as const;

export const quantizeLinear = defineCanonicalOp({
  op: 'onnx.QuantizeLinear',
  summary: 'y = saturate(round(x / y_scale) + y_zero_point); per-tensor, per-axis or blocked',
  inputs: [{ name: 'x' }, { name: 'y_scale' }, { name: 'y_zero_point', optional: true }],
  outputs: [{ name: 'y' }],
  verify: verifyLinearQuantization({ value: 0, scale: 1, zeroPoint: 2 }),
  attributes: {
    ...quantAttributes,
    output_dtype: { kind: 'int', default: 0, doc: 'opset 21: output type code when y_zero_point is absent (default uint8)' },
    precision: { kind: 'int', default: 0, doc: 'opset 25: precision of the division (0: the scale\'s type)' },
  },
  inferTypes: (context) => {
    const x = inputTensorType(context, 0);
    const zeroPoint = inputTensorType(context, 2);
    const dtype = quantizedDType(context.node, zeroPoint?.dtype);
    return [tensorType(dtype, x ? x.shape : null)];
  },
  kernel: (inputs, context) => {
    const x = inputTensor(inputs, 0, context);
    const scale = inputTensor(inputs, 1, context);
    const zeroPoint = optionalInputTensor(inputs, 2, context);
    const node = context.node;
    const target = quantizedDType(node, zeroPoint?.dtype);
    const saturate = node.attr('saturate', 'int', 1) === 1;
    const map = quantParamIndexMap(x.shape, scale.shape, node.attr('axis', 'int', 1), node.attr('block_size', 'int', 0), node);
    const xData = readNumbers(x);
    const scales = readNumbers(scale);
    const zeroPoints = zeroPoint ? readNumbers(zeroPoint) : undefined;
    const inFloat32 = scale.dtype !== 'float64' && x.dtype !== 'float64';
    const out = allocateElements(target, x.size) as unknown as number[];
    for (let i = 0, end = x.size; i < end; i++) {
      const p = map[i]!;
      out[i] = quantizeValue(xData[i]!, scales[p]!, zeroPoints ? zeroPoints[p]! : 0, target, saturate, inFloat32);
    }
    return [tensorFromElements(target, x.shape, out)];
  },
});

export const dequantizeLinear = defineCanonicalOp({
  op: 'onnx.DequantizeLinear',
  summary: 'y = (x - x_zero_point) * x_scale; per-tensor, per-axis or blocked',
  inputs: [{ name: 'x' }, { name: 'x_scale' }, { name: 'x_zero_point', optional: true }],
  outputs: [{ name: 'y' }],
  verify: verifyLinearQuantization({ value: 0, scale: 1, zeroPoint: 2 }),
  attributes: { ...quantAttributes, output_dtype: { kind: 'int', default: 0, doc: 'opset 23: output type code (default: the scale\'s type)' } },
  inferTypes: (context) => {
    const x = inputTensorType(context, 0);
    const scale = inputTensorType(context, 1);
    const code = context.node.attr('output_dtype', 'int', 0);
    const dtype = code !== 0 ? dtypeFromOnnxCode(code) : (scale?.dtype ?? 'float32');
    return [dtype ? tensorType(dtype, x ? x.shape : null) : undefined];
  },
  kernel: (inputs, context) => {
    const x = inputTensor(inputs, 0, context);
    const scale = inputTensor(inputs, 1, context);
    const zeroPoint = optionalInputTensor(inputs, 2, context);
    const node = context.node;
    const code = node.attr('output_dtype', 'int', 0);
    const outDType = code !== 0 ? dtypeFromOnnxCode(code) : scale.dtype;
    if (!outDType) throw opError(node, `unknown output_dtype ${code}`);
    const map = quantParamIndexMap(x.shape, scale.shape, node.attr('axis', 'int', 1), node.attr('block_size', 'int', 0), node);
    const xData = readNumbers(x);
    const scales = readNumbers(scale);
    const zeroPoints = zeroPoint ? readNumbers(zeroPoint) : undefined;
    const inFloat32 = scale.dtype !== 'float64';
    const out = allocateElements(outDType, x.size) as unknown as number[];
    for (let i = 0, end = x.size; i < end; i++) {
      const p = map[i]!;
      const shifted = xData[i]! - (zeroPoints ? zeroPoints[p]! : 0);
      out[i] = inFloat32 ? Math.fround(Math.fround(shifted) * scales[p]!) : shifted * scales[p]!;
    }
    return [tensorFromElements(outDType, x.shape, out)];
  },
});

export const dynamicQuantizeLinear = defineCanonicalOp({
  op: 'onnx.DynamicQuantizeLinear',
  summary: 'uint8 quantization of x with a scale and zero point computed from its range (including 0)',
  inputs: [{ name: 'x' }],
  outputs: [{ name: 'y' }, { name: 'y_scale' }, { name: 'y_zero_point' }],
  inferTypes: (context) => {
    const x = inputTensorType(context, 0);
    return [tensorType('uint8', x ? x.shape : null), tensorType('float32', []), tensorType('uint8', [])];
  },
  kernel: (inputs, context: KernelContext) => {
    const x: Tensor = inputTensor(inputs, 0, context);
    if (x.dtype !== 'float32') throw opError(context.node, 'DynamicQuantizeLinear takes float32 input', { actual: x.dtype });
    const data = readElements(x) as Float32Array;
    let low = 0;
    let high = 0;
    for (const v of data) {
      if (v < low) low = v;
      if (v > high) high = v;
    }
    const scale = Math.fround(Math.fround(high - low) / 255);
    const zeroPoint = scale === 0 ? 0 : Math.min(255, Math.max(0, roundHalfToEven(Math.fround(0 - Math.fround(low / scale)))));
    const y = new Uint8Array(x.size);
    for (let i = 0, end = x.size; i < end; i++) y[i] = scale === 0 ? zeroPoint : quantizeValue(data[i]!, scale, zeroPoint, 'uint8', true, true);
    return [tensorFromElements('uint8', x.shape, y), tensorFromElements('float32', [], [scale]), tensorFromElements('uint8', [], [zeroPoint])];
  },
});

export const quantizationOps: readonly CanonicalOp[] = [quantizeLinear, dequantizeLinear, dynamicQuantizeLinear];
