/**
 * Verify hooks for QuantizeLinear and DequantizeLinear: the scale's shape picks the granularity
 * (one value: per-tensor; 1-D: per-axis along `axis`; x's rank with `block_size`: blocked), and
 * the axis, the scale's length and the zero point's shape must fit it, as ONNX Runtime checks when
 * it loads or runs the node.
 */
import type { Dim } from '@modelpass/ir';
import { dimProduct, staticDim } from '../util/inference.js';
import { inputShapeOf, intAttribute, reportAt, type OpVerifier } from './verify-context.js';

function formatShape(shape: readonly Dim[]): string {
  return `[${shape.map((d) => (d === null ? '?' : String(d))).join(',')}]`;
}

/** Verify hook of an op whose inputs are (value, scale, zero point) at these indices. */
export function verifyLinearQuantization(inputs: { value: number; scale: number; zeroPoint: number }): OpVerifier {
  return (context) => {
    const { node } = context;
    const x = inputShapeOf(node, inputs.value);
    const scale = inputShapeOf(node, inputs.scale);
    const zeroPoint = node.inputs[inputs.zeroPoint] ? inputShapeOf(node, inputs.zeroPoint) : undefined;
    const scaleName = `${node.inputs[inputs.scale]?.name ?? 'scale'}`;
    if (scale && zeroPoint && (scale.length !== zeroPoint.length || scale.some((d, i) => typeof d === 'number' && typeof zeroPoint[i] === 'number' && d !== zeroPoint[i]))) {
      reportAt(context, 'quant-parameter-shape', `zero point '${node.inputs[inputs.zeroPoint]!.name}' has shape ${formatShape(zeroPoint)} but scale '${scaleName}' has ${formatShape(scale)}`, {
        expected: `the scale's shape ${formatShape(scale)}`,
        actual: formatShape(zeroPoint),
      });
    }
    if (!scale) return;
    const perTensor = dimProduct(scale) === 1;
    const blockSize = intAttribute(node, 'block_size') ?? 0;
    if (blockSize < 0) reportAt(context, 'quant-block-size', `block_size is ${blockSize}`, { expected: 'a positive block size, or 0 for per-tensor / per-axis' });
    if (perTensor && blockSize <= 0) return;
    if (context.opset !== undefined && context.opset < 13) {
      reportAt(context, 'quant-scale-shape', `scale '${scaleName}' has shape ${formatShape(scale)}, but before opset 13 ${node.opType} is per-tensor only`, { expected: 'a scalar scale', actual: formatShape(scale), hint: 'import opset 13 or newer for per-axis quantization' });
      return;
    }
    if (!x) return;
    const axisValue = intAttribute(node, 'axis') ?? 1;
    const axis = axisValue < 0 ? axisValue + x.length : axisValue;
    if (axis < 0 || axis >= x.length) {
      reportAt(context, 'axis-range', `axis ${axisValue} is out of range for input '${node.inputs[inputs.value]?.name}' of rank ${x.length}`, { expected: `an axis in [${-x.length}, ${x.length - 1}]`, actual: String(axisValue) });
      return;
    }
    const dim = staticDim(x[axis]);
    if (blockSize > 0) {
      const expected = x.map((d, i) => (i === axis ? (typeof d === 'number' ? Math.ceil(d / blockSize) : null) : d));
      const fits = scale.length === x.length && scale.every((d, i) => typeof d !== 'number' || typeof expected[i] !== 'number' || d === expected[i]);
      if (!fits) reportAt(context, 'quant-scale-shape', `blocked quantization (block_size ${blockSize}, axis ${axisValue}) of a ${formatShape(x)} input needs a scale of shape ${formatShape(expected)}`, { expected: formatShape(expected), actual: formatShape(scale) });
      return;
    }
    if (scale.length !== 1) {
      reportAt(context, 'quant-scale-shape', `scale '${scaleName}' has rank ${scale.length}; per-axis scales are 1-D`, { expected: `[${dim ?? '?'}] (one scale per element of axis ${axisValue}) or a scalar`, actual: formatShape(scale), hint: 'blocked quantization needs block_size' });
      return;
    }
    const length = staticDim(scale[0]);
    if (length !== undefined && dim !== undefined && length !== dim) {
      reportAt(context, 'quant-scale-length', `${length} scales in '${scaleName}' for axis ${axisValue} of size ${dim}`, { expected: `${dim} scales (or one, per-tensor)`, actual: String(length) });
    }
  };
}
