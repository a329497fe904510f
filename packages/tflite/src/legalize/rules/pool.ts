import { Tensor, type Node } from '@modelpass/ir';
import type { LoweringRule } from '../lowering-rule.js';
import { dimsOf, replaceNode, tensorTypeOf, TfliteEmitter } from '../lowering-tools.js';
import { channelsLastType, toChannelsFirst, toChannelsLast } from './channels-last.js';
import { checkWindow2d, explicitPad } from './conv.js';
import { dilatedPoolProblem, lowerDilatedPool, windowCounts } from './dilated-pool.js';
import { resolvePadding, windowGeometry, type WindowPadding } from './padding.js';

/** The lowest float32: max pooling's padding value. */
const LOWEST_FLOAT32 = -3.4028234663852886e38;

function poolPadding(node: Node): WindowPadding | string {
  const kernel = node.attr('kernel_shape', 'ints');
  const padding = resolvePadding(node, dimsOf(node.inputs[0])!.slice(2), windowGeometry(node, kernel), (node.optionalAttr('ceil_mode', 'int') ?? 0) === 1);
  // TFLite's SAME average leaves the padding out of the count: with count_include_pad=1 the zeros are padded explicitly.
  const countsPadding = node.op === 'onnx.AveragePool' && (node.optionalAttr('count_include_pad', 'int') ?? 0) === 1;
  if (countsPadding && typeof padding !== 'string' && padding.kind === 'SAME') {
    const pads = node.optionalAttr('pads', 'ints');
    if (pads) return { kind: 'explicit', begins: pads.slice(0, kernel.length), ends: pads.slice(kernel.length) };
  }
  return padding;
}

const isDilated = (node: Node): boolean => (node.optionalAttr('dilations', 'ints') ?? [1, 1]).some((d) => d !== 1);

function checkPool(node: Node): string | undefined {
  const window = checkWindow2d(node, 'pool');
  if (window) return window;
  if (isDilated(node)) return node.outputs[1]?.hasUses ? 'the Indices output of MaxPool has no TFLite equivalent' : dilatedPoolProblem(node);
  // storage_order only orders the Indices output, refused here when read: the pooled values do not depend on it.
  if (node.outputs[1]?.hasUses) return 'the Indices output of MaxPool has no TFLite equivalent';
  const padding = poolPadding(node);
  if (typeof padding === 'string') return padding;
  if (excludesPadding(node, padding)) {
    const plan = excludedPaddingPlan(node, padding as WindowPadding & { kind: 'explicit' });
    if (typeof plan === 'string') return `AveragePool with explicit pads that exclude the padding from the count (count_include_pad=0) and differ from SAME: ${plan}`;
  }
  return undefined;
}

function excludesPadding(node: Node, padding: WindowPadding): boolean {
  return node.op === 'onnx.AveragePool' && padding.kind === 'explicit' && (node.optionalAttr('count_include_pad', 'int') ?? 0) === 0;
}

/**
 * AveragePool with explicit pads left out of the count (torch's count_include_pad=False) that are not SAME's: the
 * zero-padded input (ends as far as the last window reaches, ceil_mode included) averaged over whole windows by
 * AVERAGE_POOL_2D VALID, then each window rescaled by kernel area / its count of input taps — as ONNX Runtime counts
 * them — a constant [1, outH, outW, 1] MUL.
 */
function excludedPaddingPlan(node: Node, padding: WindowPadding & { kind: 'explicit' }): { begins: number[]; ends: number[]; factors: Tensor } | string {
  const inDims = dimsOf(node.inputs[0]);
  const outDims = dimsOf(node.outputs[0]);
  if (!inDims || !outDims || [inDims[2], inDims[3], outDims[2], outDims[3]].some((d) => typeof d !== 'number')) return 'needs static input and output H, W';
  if (tensorTypeOf(node.inputs[0])?.dtype !== 'float32') return 'rescaling the windows is lowered for float32 only';
  const kernel = node.attr('kernel_shape', 'ints');
  const strides = node.optionalAttr('strides', 'ints') ?? [1, 1];
  const sizes = [inDims[2], inDims[3]] as number[];
  const out = [outDims[2], outDims[3]] as number[];
  // The resolved begins (explicit pads, or auto_pad SAME_LOWER's); the ends reach as far as the last window does.
  const begins = [padding.begins[0]!, padding.begins[1]!];
  const ends = [0, 1].map((a) => Math.max((out[a]! - 1) * strides[a]! + kernel[a]! - sizes[a]! - begins[a]!, 0));
  const [rows, columns] = [0, 1].map((a) => windowCounts(out[a]!, strides[a]!, kernel[a]!, 1, begins[a]!, begins[a]! + sizes[a]!)) as [number[], number[]];
  const area = kernel[0]! * kernel[1]!;
  // A window of padding only averages to 0 whatever it is multiplied by.
  const factors = Tensor.fromValues('float32', [1, out[0]!, out[1]!, 1], rows.flatMap((r) => columns.map((c) => area / Math.max(r * c, 1))));
  return { begins, ends, factors };
}

const pool: LoweringRule = {
  ops: ['onnx.MaxPool', 'onnx.AveragePool'],
  stage: 'layout',
  targets: ['MAX_POOL_2D', 'AVERAGE_POOL_2D', 'PAD', 'PADV2', 'STRIDED_SLICE', 'MAXIMUM', 'ADD', 'DIV', 'MUL'],
  check: checkPool,
  lower(node, context) {
    const emit = new TfliteEmitter(node, context);
    const kernel = node.attr('kernel_shape', 'ints');
    const geometry = windowGeometry(node, kernel);
    const padding = poolPadding(node) as WindowPadding;
    const max = node.op === 'onnx.MaxPool';
    let x = toChannelsLast(emit, node.input(0));
    if (isDilated(node)) {
      replaceNode(node, [toChannelsFirst(emit, lowerDilatedPool(emit, node, x)), null]);
      return;
    }
    const excluded = excludesPadding(node, padding) ? (excludedPaddingPlan(node, padding as WindowPadding & { kind: 'explicit' }) as Exclude<ReturnType<typeof excludedPaddingPlan>, string>) : undefined;
    if (excluded) x = explicitPad(emit, x, { kind: 'explicit', begins: excluded.begins, ends: excluded.ends });
    else if (padding.kind === 'explicit') x = explicitPad(emit, x, padding, max ? LOWEST_FLOAT32 : undefined);
    let y = emit.op1(
      max ? 'MAX_POOL_2D' : 'AVERAGE_POOL_2D',
      [x],
      {
        padding: padding.kind === 'SAME' && !excluded ? 'SAME' : 'VALID',
        stride_h: geometry.strides[0]!,
        stride_w: geometry.strides[1]!,
        filter_height: kernel[0]!,
        filter_width: kernel[1]!,
        fused_activation_function: 'NONE',
      },
      channelsLastType(node),
    );
    if (excluded) y = emit.op1('MUL', [y, emit.constant(excluded.factors, 'window_rescale')], { fused_activation_function: 'NONE' }, y.type);
    replaceNode(node, [toChannelsFirst(emit, y), null]);
  },
};

export const poolRules: readonly LoweringRule[] = [pool];
