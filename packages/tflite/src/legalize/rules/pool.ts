import type { Node } from '@modelpass/ir';
import type { LoweringRule } from '../lowering-rule.js';
import { dimsOf, replaceNode, TfliteEmitter } from '../lowering-tools.js';
import { channelsLastType, toChannelsFirst, toChannelsLast } from './channels-last.js';
import { checkWindow2d, explicitPad } from './conv.js';
import { dilatedPoolProblem, lowerDilatedPool } from './dilated-pool.js';
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
  if (node.op === 'onnx.AveragePool' && padding.kind === 'explicit' && (node.optionalAttr('count_include_pad', 'int') ?? 0) === 0) {
    return 'AveragePool with explicit pads that exclude the padding from the count (count_include_pad=0) only maps when the pads equal SAME';
  }
  return undefined;
}

const pool: LoweringRule = {
  ops: ['onnx.MaxPool', 'onnx.AveragePool'],
  stage: 'layout',
  targets: ['MAX_POOL_2D', 'AVERAGE_POOL_2D', 'PAD', 'PADV2', 'STRIDED_SLICE', 'MAXIMUM', 'ADD', 'DIV'],
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
    if (padding.kind === 'explicit') x = explicitPad(emit, x, padding, max ? LOWEST_FLOAT32 : undefined);
    const y = emit.op1(
      max ? 'MAX_POOL_2D' : 'AVERAGE_POOL_2D',
      [x],
      {
        padding: padding.kind === 'SAME' ? 'SAME' : 'VALID',
        stride_h: geometry.strides[0]!,
        stride_w: geometry.strides[1]!,
        filter_height: kernel[0]!,
        filter_width: kernel[1]!,
        fused_activation_function: 'NONE',
      },
      channelsLastType(node),
    );
    replaceNode(node, [toChannelsFirst(emit, y), null]);
  },
};

export const poolRules: readonly LoweringRule[] = [pool];
