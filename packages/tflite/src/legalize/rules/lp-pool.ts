import { Tensor, type Node, type Value } from '@modelpass/ir';
import type { LoweringRule } from '../lowering-rule.js';
import { dimsOf, replaceNode, tensorTypeOf, TfliteEmitter, typeWithShape } from '../lowering-tools.js';
import { toChannelsFirst, toChannelsLast } from './channels-last.js';
import { checkWindow2d, explicitPad } from './conv.js';
import { resolvePadding, windowGeometry, type WindowPadding } from './padding.js';

/**
 * LpPool (1-D as 2-D with a unit height, 2-D): (Σ_window |x|^p)^(1/p) in NHWC. The window sum is AVERAGE_POOL_2D (VALID, after an
 * explicit zero PAD: zeros add nothing to the sum, and VALID counts every position) times the window
 * size; |x|^p is x·x for p = 2, ABS for p = 1, POW otherwise.
 */

const NONE = { fused_activation_function: 'NONE' };

function lpPadding(node: Node): WindowPadding | string {
  const kernel = node.attr('kernel_shape', 'ints');
  return resolvePadding(node, dimsOf(node.inputs[0])!.slice(2), windowGeometry(node, kernel), (node.optionalAttr('ceil_mode', 'int') ?? 0) === 1);
}

const lpPool: LoweringRule = {
  ops: ['onnx.LpPool'],
  stage: 'layout',
  targets: ['MUL', 'ABS', 'POW', 'PAD', 'AVERAGE_POOL_2D', 'SQRT'],
  check(node) {
    const dims = dimsOf(node.inputs[0]);
    if (dims?.length !== 3) {
      const window = checkWindow2d(node, 'LpPool');
      if (window) return window;
    } else if (dims.filter((d) => typeof d !== 'number').length > 1) return 'a 1-D LpPool input with more than one unknown dim cannot be reshaped to 2-D';
    if (tensorTypeOf(node.inputs[0])?.dtype !== 'float32') return 'LpPool is lowered for float32 only';
    if ((node.optionalAttr('dilations', 'ints') ?? []).some((d) => d !== 1)) return 'dilated LpPool has no TFLite kernel (AVERAGE_POOL_2D is not dilated)';
    if ((node.optionalAttr('p', 'int') ?? 2) <= 0) return 'LpPool needs p > 0';
    const padding = lpPadding(node);
    if (typeof padding !== 'string' && padding.kind === 'SAME' && dimsOf(node.inputs[0])!.slice(2).some((d) => typeof d !== 'number')) return 'LpPool with SAME padding needs static spatial dims (the padding is written out)';
    return typeof padding === 'string' ? padding : undefined;
  },
  lower(node, context) {
    const emit = new TfliteEmitter(node, context);
    const given = node.attr('kernel_shape', 'ints');
    const p = node.optionalAttr('p', 'int') ?? 2;
    let padding = lpPadding(node) as WindowPadding;
    if (padding.kind === 'SAME') {
      // TFLite's SAME average leaves the padding out of the count: write TFLite's SAME pads out.
      const strides = windowGeometry(node, given).strides;
      const sizes = dimsOf(node.inputs[0])!.slice(2) as number[];
      const pairs = sizes.map((size, i) => {
        const total = Math.max((Math.ceil(size / strides[i]!) - 1) * strides[i]! + given[i]! - size, 0);
        return [Math.floor(total / 2), total - Math.floor(total / 2)] as const;
      });
      padding = { kind: 'explicit', begins: pairs.map(([b]) => b), ends: pairs.map(([, e]) => e) };
    }
    // 1-D ([N, C, L]): the 2-D window over [N, C, 1, L] (a unit height), reshaped back at the end.
    const oneD = given.length === 1;
    const kernel = oneD ? [1, given[0]!] : given;
    const strides = oneD ? [1, windowGeometry(node, given).strides[0]!] : windowGeometry(node, given).strides;
    if (oneD && padding.kind === 'explicit') padding = { kind: 'explicit', begins: [0, padding.begins[0]!], ends: [0, padding.ends[0]!] };
    const geometry = { strides };
    let input = node.input(0);
    const inDims = dimsOf(input)!;
    if (oneD) input = emit.op1('RESHAPE', [input, emit.int32(inDims.map((d) => (typeof d === 'number' ? d : -1)).toSpliced(2, 0, 1), [4], 'lifted')], {}, typeWithShape(input.type, inDims.toSpliced(2, 0, 1)));
    let x: Value = toChannelsLast(emit, input);
    const type = x.type;
    x = p === 2 ? emit.op1('MUL', [x, x], NONE, type) : p === 1 ? emit.op1('ABS', [x], {}, type) : emit.op1('POW', [emit.op1('ABS', [x], {}, type), emit.constant(Tensor.scalar('float32', p), 'p')], {}, type);
    if (padding.kind === 'explicit') x = explicitPad(emit, x, padding);
    const outDims = dimsOf(node.outputs[0])!;
    const liftedOut = oneD ? outDims.toSpliced(2, 0, 1) : outDims;
    const outType = typeWithShape(node.output(0).type, [liftedOut[0]!, ...liftedOut.slice(2), liftedOut[1]!]);
    const mean = emit.op1(
      'AVERAGE_POOL_2D',
      [x],
      { padding: 'VALID', stride_h: geometry.strides[0]!, stride_w: geometry.strides[1]!, filter_height: kernel[0]!, filter_width: kernel[1]!, fused_activation_function: 'NONE' },
      outType,
    );
    const sum = emit.op1('MUL', [mean, emit.constant(Tensor.scalar('float32', kernel[0]! * kernel[1]!), 'window_size')], NONE, outType);
    const y = p === 1 ? sum : p === 2 ? emit.op1('SQRT', [sum], {}, outType) : emit.op1('POW', [sum, emit.constant(Tensor.scalar('float32', 1 / p), 'inverse_p')], {}, outType);
    const back = toChannelsFirst(emit, y);
    replaceNode(node, [oneD ? emit.op1('RESHAPE', [back, emit.int32(outDims.map((d) => (typeof d === 'number' ? d : -1)), [3], 'shape')], {}, node.output(0).type) : back]);
  },
};

export const lpPoolRules: readonly LoweringRule[] = [lpPool];
