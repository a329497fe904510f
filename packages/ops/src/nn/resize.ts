/**
 * Resize (opset 10 to 19) and Upsample: nearest / linear / cubic interpolation with every
 * coordinate_transformation_mode and nearest_mode, scales or sizes (keep_aspect_ratio_policy), axes,
 * roi with tf_crop_and_resize, exclude_outside and antialias. The filter is separable, so the
 * kernel resamples one axis at a time in float64 (as ONNX's reference does, per axis) and rounds once.
 */
import { tensorType, type Dim, type Node, type Tensor } from '@modelpass/ir';
import { defineCanonicalOp } from '../op-definition.js';
import { readInts, readNumbers } from '../util/elements.js';
import { hasInput, inputTensorType } from '../util/inference.js';
import { inputTensor, opError, optionalInputTensor } from '../util/kernel-io.js';
import { sizeOf } from '../util/shape.js';
import { tensorFromNumbers } from './kernel-helpers.js';
import { inputDimValues } from '../interpreter/symbolic-values.js';
import { verifyResizeTargets } from '../verify/operand-shape-checks.js';

interface ResizeSettings {
  mode: string;
  coordinateMode: string;
  nearestMode: string;
  cubicA: number;
  excludeOutside: boolean;
  extrapolation: number;
  antialias: boolean;
}

interface AxisPlan {
  axis: number;
  inLength: number;
  outLength: number;
  scale: number;
  roiStart: number;
  roiEnd: number;
}

function originalCoordinate(x: number, plan: AxisPlan, settings: ResizeSettings): number {
  const { inLength, outLength, scale } = plan;
  // As in ONNX's reference: the resized length is `scale * inLength`, which may be fractional when
  // scales (not sizes) are given; the integer output length decides only the single-pixel cases.
  const resizedLength = scale * inLength;
  switch (settings.coordinateMode) {
    case 'half_pixel_symmetric': {
      const adjustment = outLength / resizedLength;
      const offset = (inLength / 2) * (1 - adjustment);
      return offset + (x + 0.5) / scale - 0.5;
    }
    case 'pytorch_half_pixel':
      return outLength > 1 ? (x + 0.5) / scale - 0.5 : 0;
    case 'align_corners':
      return outLength === 1 ? 0 : (x * (inLength - 1)) / (resizedLength - 1);
    case 'asymmetric':
      return x / scale;
    case 'tf_half_pixel_for_nn':
      return (x + 0.5) / scale;
    case 'tf_crop_and_resize':
      return outLength > 1
        ? plan.roiStart * (inLength - 1) + (x * (plan.roiEnd - plan.roiStart) * (inLength - 1)) / (resizedLength - 1)
        : 0.5 * (plan.roiStart + plan.roiEnd) * (inLength - 1);
    default:
      return (x + 0.5) / scale - 0.5;
  }
}

function nearestIndex(x: number, settings: ResizeSettings, scale: number): number {
  if (Number.isInteger(x)) return x;
  const floor = Math.floor(x);
  const ratio = x - floor;
  switch (settings.nearestMode) {
    case 'round_prefer_ceil':
      return ratio >= 0.5 ? floor + 1 : floor;
    case 'floor':
      return floor;
    case 'ceil':
      return floor + 1;
    case 'simple':
      return scale < 1 ? Math.ceil(x) : floor;
    default:
      return ratio > 0.5 ? floor + 1 : floor;
  }
}

function cubicCoefficient(distance: number, a: number): number {
  const x = Math.abs(distance);
  if (x <= 1) return (a + 2) * x ** 3 - (a + 3) * x ** 2 + 1;
  if (x < 2) return a * x ** 3 - 5 * a * x ** 2 + 8 * a * x - 4 * a;
  return 0;
}

/** Input indices (unclamped) and weights that make output coordinate `x` along one axis. */
function taps(x: number, plan: AxisPlan, settings: ResizeSettings): { indices: number[]; weights: number[] } | 'extrapolate' {
  const xOriginal = originalCoordinate(x, plan, settings);
  if (settings.coordinateMode === 'tf_crop_and_resize' && (xOriginal < 0 || xOriginal > plan.inLength - 1)) return 'extrapolate';
  if (settings.mode === 'nearest') return { indices: [nearestIndex(xOriginal, settings, plan.scale)], weights: [1] };
  const base = Math.floor(xOriginal);
  const ratio = xOriginal - base;
  const stretch = settings.antialias && plan.scale < 1 ? plan.scale : 1;
  const indices: number[] = [];
  const weights: number[] = [];
  if (settings.mode === 'linear') {
    const start = Math.floor(-1 / stretch) + 1;
    for (let i = start; i < 2 - start; i++) {
      indices.push(base + i);
      weights.push(Math.min(Math.max(1 - Math.abs((i - ratio) * stretch), 0), 1));
    }
  } else {
    const start = Math.floor(-2 / stretch) + 1;
    for (let i = start; i < 2 - start; i++) {
      indices.push(base + i);
      weights.push(cubicCoefficient((i - ratio) * stretch, settings.cubicA));
    }
  }
  if (settings.excludeOutside) {
    indices.forEach((index, k) => {
      if (index < 0 || index >= plan.inLength) weights[k] = 0;
    });
  }
  if (settings.excludeOutside || stretch !== 1) {
    const sum = weights.reduce((a, b) => a + b, 0);
    if (sum !== 0) for (let k = 0; k < weights.length; k++) weights[k]! /= sum;
  }
  return { indices, weights };
}

function resampleAxis(data: Float64Array, shape: number[], plan: AxisPlan, settings: ResizeSettings): Float64Array {
  const outer = sizeOf(shape.slice(0, plan.axis));
  const inner = sizeOf(shape.slice(plan.axis + 1));
  const out = new Float64Array(outer * plan.outLength * inner);
  for (let o = 0; o < plan.outLength; o++) {
    const tap = taps(o, plan, settings);
    for (let a = 0; a < outer; a++) {
      const outBase = (a * plan.outLength + o) * inner;
      if (tap === 'extrapolate') {
        out.fill(settings.extrapolation, outBase, outBase + inner);
        continue;
      }
      for (let k = 0; k < tap.indices.length; k++) {
        const weight = tap.weights[k]!;
        if (weight === 0) continue;
        const index = Math.min(Math.max(tap.indices[k]!, 0), plan.inLength - 1);
        const inBase = (a * plan.inLength + index) * inner;
        for (let i = 0; i < inner; i++) out[outBase + i]! += weight * data[inBase + i]!;
      }
    }
  }
  shape[plan.axis] = plan.outLength;
  return out;
}

function roundHalfUp(value: number): number {
  return Math.floor(value + 0.5);
}

interface ResizeTargets {
  axes: number[];
  scales?: number[];
  sizes?: number[];
  roi?: number[];
}

/** Per-axis output lengths and scales from scales or sizes (with keep_aspect_ratio_policy). */
function planAxes(node: Node, shape: readonly number[], targets: ResizeTargets): AxisPlan[] {
  const { axes } = targets;
  const plans: AxisPlan[] = shape.map((length, axis) => ({ axis, inLength: length, outLength: length, scale: 1, roiStart: 0, roiEnd: 1 }));
  if (targets.sizes && targets.sizes.length > 0) {
    if (targets.sizes.length !== axes.length) throw opError(node, `sizes has ${targets.sizes.length} entries for ${axes.length} axes`);
    const policy = node.attr('keep_aspect_ratio_policy', 'string', 'stretch');
    if (policy === 'stretch') {
      axes.forEach((axis, i) => {
        plans[axis]!.outLength = targets.sizes![i]!;
        plans[axis]!.scale = targets.sizes![i]! / shape[axis]!;
      });
    } else {
      const ratios = axes.map((axis, i) => targets.sizes![i]! / shape[axis]!);
      const scale = policy === 'not_larger' ? Math.min(...ratios) : Math.max(...ratios);
      for (const axis of axes) {
        plans[axis]!.outLength = roundHalfUp(scale * shape[axis]!);
        plans[axis]!.scale = scale;
      }
    }
  } else if (targets.scales && targets.scales.length > 0) {
    if (targets.scales.length !== axes.length) throw opError(node, `scales has ${targets.scales.length} entries for ${axes.length} axes`);
    axes.forEach((axis, i) => {
      plans[axis]!.scale = targets.scales![i]!;
      plans[axis]!.outLength = Math.floor(shape[axis]! * targets.scales![i]!);
    });
  } else {
    throw opError(node, 'needs scales or sizes');
  }
  if (targets.roi && targets.roi.length === 2 * axes.length) {
    axes.forEach((axis, i) => {
      plans[axis]!.roiStart = targets.roi![i]!;
      plans[axis]!.roiEnd = targets.roi![i + axes.length]!;
    });
  }
  return plans;
}

function resizeTensor(node: Node, x: Tensor, targets: ResizeTargets, settings: ResizeSettings): Tensor {
  const plans = planAxes(node, x.shape, targets);
  let data = Float64Array.from(readNumbers(x));
  const shape = [...x.shape];
  for (const plan of plans) {
    const identity = plan.outLength === plan.inLength && plan.scale === 1 && settings.coordinateMode !== 'tf_crop_and_resize';
    if (identity) continue;
    data = resampleAxis(data, shape, plan, settings) as Float64Array<ArrayBuffer>;
  }
  if (x.dtype !== 'float32' && x.dtype !== 'float64' && x.dtype !== 'float16' && x.dtype !== 'bfloat16') {
    // Integer data: ONNX Runtime rounds interpolated values to nearest and saturates.
    return tensorFromNumbers(x.dtype, shape, Array.from(data, (v) => Math.round(v)));
  }
  return tensorFromNumbers(x.dtype, shape, data);
}

function settingsOf(node: Node, opset: number, upsample: boolean): ResizeSettings {
  const legacy = upsample || opset < 11;
  const mode = node.attr('mode', 'string', 'nearest');
  return {
    mode: mode === 'bilinear' || mode === 'trilinear' ? 'linear' : mode,
    coordinateMode: legacy ? 'asymmetric' : node.attr('coordinate_transformation_mode', 'string', 'half_pixel'),
    nearestMode: legacy ? (upsample ? 'floor' : 'simple') : node.attr('nearest_mode', 'string', 'round_prefer_floor'),
    cubicA: node.attr('cubic_coeff_a', 'float', -0.75),
    excludeOutside: node.attr('exclude_outside', 'int', 0) === 1,
    extrapolation: node.attr('extrapolation_value', 'float', 0),
    antialias: node.attr('antialias', 'int', 0) === 1,
  };
}

function floatsOf(tensor: Tensor | undefined): number[] | undefined {
  return tensor && tensor.size > 0 ? Array.from(readNumbers(tensor)) : undefined;
}

export const resizeOp = defineCanonicalOp({
  op: 'onnx.Resize',
  summary: 'Resizes by interpolation (nearest, linear, cubic) from scales or sizes',
  inputs: [{ name: 'X' }, { name: 'roi', optional: true }, { name: 'scales', optional: true }, { name: 'sizes', optional: true }],
  outputs: [{ name: 'Y' }],
  attributes: {
    antialias: { kind: 'int', default: 0 },
    axes: { kind: 'ints' },
    coordinate_transformation_mode: {
      kind: 'string',
      default: 'half_pixel',
      oneOf: ['half_pixel', 'half_pixel_symmetric', 'pytorch_half_pixel', 'align_corners', 'asymmetric', 'tf_half_pixel_for_nn', 'tf_crop_and_resize'],
    },
    cubic_coeff_a: { kind: 'float', default: -0.75 },
    exclude_outside: { kind: 'int', default: 0 },
    extrapolation_value: { kind: 'float', default: 0 },
    keep_aspect_ratio_policy: { kind: 'string', default: 'stretch', oneOf: ['stretch', 'not_larger', 'not_smaller'] },
    mode: { kind: 'string', default: 'nearest', oneOf: ['nearest', 'linear', 'cubic'] },
    nearest_mode: { kind: 'string', default: 'round_prefer_floor', oneOf: ['round_prefer_floor', 'round_prefer_ceil', 'floor', 'ceil'] },
  },
  verify: verifyResizeTargets,
  inferTypes(context) {
    const type = inputTensorType(context, 0);
    if (!type) return [undefined];
    if (!type.shape) return [tensorType(type.dtype, null)];
    const shape = type.shape;
    const opset = context.opset ?? 19;
    const node = context.node;
    const axes = (node.optionalAttr('axes', 'ints') ?? shape.map((_, i) => i)).map((a) => (a < 0 ? a + shape.length : a));
    // Sizes known in part (torch's dynamic exports: Concat(Shape(x)[:2], H, W)) give the dims they know.
    const sizes = opset >= 11 && hasInput(node, 3) ? inputDimValues(context, 3) : undefined;
    const scalesTensor = opset < 11 ? context.inputConstant(1) : hasInput(node, 2) ? context.inputConstant(2) : undefined;
    const scales = scalesTensor && scalesTensor.size > 0 ? Array.from(readNumbers(scalesTensor)) : undefined;
    const out: Dim[] = [...shape];
    if (sizes && sizes.length > 0 && node.attr('keep_aspect_ratio_policy', 'string', 'stretch') === 'stretch') {
      axes.forEach((axis, i) => (out[axis] = sizes[i] ?? null));
    } else if (scales && !(sizes && sizes.length > 0)) {
      axes.forEach((axis, i) => {
        const dim = shape[axis];
        out[axis] = typeof dim === 'number' ? Math.floor(dim * scales[i]!) : scales[i] === 1 ? dim! : null;
      });
    } else {
      for (const axis of axes) out[axis] = null;
    }
    return [tensorType(type.dtype, out)];
  },
  kernel(inputs, { node, opset }) {
    const x = inputTensor(inputs, 0, node);
    const axes = (node.optionalAttr('axes', 'ints') ?? x.shape.map((_, i) => i)).map((a) => (a < 0 ? a + x.rank : a));
    const settings = settingsOf(node, opset, false);
    if (opset < 11) {
      return [resizeTensor(node, x, { axes, scales: floatsOf(inputTensor(inputs, 1, node))! }, settings)];
    }
    const roi = floatsOf(optionalInputTensor(inputs, 1, node));
    const scales = floatsOf(optionalInputTensor(inputs, 2, node));
    const sizesT = optionalInputTensor(inputs, 3, node);
    const sizes = sizesT && sizesT.size > 0 ? readInts(sizesT) : undefined;
    return [resizeTensor(node, x, { axes, ...(scales ? { scales } : {}), ...(sizes ? { sizes } : {}), ...(roi ? { roi } : {}) }, settings)];
  },
});

export const upsampleOp = defineCanonicalOp({
  op: 'onnx.Upsample',
  summary: 'Deprecated Resize: asymmetric coordinates, nearest (floor) or linear, scales attribute (7) or input (9)',
  inputs: [{ name: 'X' }, { name: 'scales', optional: true }],
  outputs: [{ name: 'Y' }],
  attributes: { mode: { kind: 'string', default: 'nearest' }, scales: { kind: 'floats' }, height_scale: { kind: 'float' }, width_scale: { kind: 'float' } },
  inferTypes(context) {
    const type = inputTensorType(context, 0);
    if (!type?.shape) return [type ? tensorType(type.dtype, null) : undefined];
    const scalesTensor = hasInput(context.node, 1) ? context.inputConstant(1) : undefined;
    const scales = scalesTensor ? Array.from(readNumbers(scalesTensor)) : context.node.optionalAttr('scales', 'floats');
    if (!scales) return [tensorType(type.dtype, type.shape.map(() => null))];
    return [tensorType(type.dtype, type.shape.map((d, i) => (typeof d === 'number' ? Math.floor(d * scales[i]!) : scales[i] === 1 ? d : null)))];
  },
  kernel(inputs, { node, opset }) {
    const x = inputTensor(inputs, 0, node);
    const scalesT = optionalInputTensor(inputs, 1, node);
    const scales = scalesT ? Array.from(readNumbers(scalesT)) : node.optionalAttr('scales', 'floats')?.slice();
    if (!scales) throw opError(node, 'needs scales (an attribute at opset 7, an input from opset 9)');
    return [resizeTensor(node, x, { axes: x.shape.map((_, i) => i), scales }, settingsOf(node, opset, true))];
  },
});

export const resizeOps = [resizeOp, upsampleOp];
