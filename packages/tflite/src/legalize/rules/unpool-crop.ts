import { Tensor, tensorType } from '@modelpass/ir';
import { numbersOf } from '../constant-values.js';
import type { LoweringRule } from '../lowering-rule.js';
import { replaceNode, staticDims, tensorTypeOf, TfliteEmitter, typeWithShape } from '../lowering-tools.js';

/** MaxUnpool and CenterCropPad: data movement into a tensor of another static shape. */

/**
 * MaxUnpool → SCATTER_ND of the values at their flat indices into the unpooled size, RESHAPE to its
 * shape. SCATTER_ND adds values that meet at one index (overlapping MaxPool windows pick the same
 * element twice), so the sum is divided by how many landed there (at least 1).
 */
const maxUnpool: LoweringRule = {
  ops: ['onnx.MaxUnpool'],
  stage: 'lower',
  targets: ['SCATTER_ND', 'RESHAPE', 'CAST', 'MAXIMUM', 'DIV'],
  check(node) {
    if (tensorTypeOf(node.inputs[0])?.dtype !== 'float32') return `MaxUnpool of ${tensorTypeOf(node.inputs[0])?.dtype ?? 'untyped'} values is not supported (float32)`;
    const indices = tensorTypeOf(node.inputs[1])?.dtype;
    if (indices !== 'int64' && indices !== 'int32') return 'MaxUnpool indices must be int64 or int32';
    const inDims = staticDims(node.inputs[0]);
    const outDims = staticDims(node.outputs[0]);
    if (!inDims || !outDims) return 'MaxUnpool needs static input and output shapes (a constant output_shape)';
    const kernel = node.attr('kernel_shape', 'ints');
    const strides = node.optionalAttr('strides', 'ints') ?? kernel.map(() => 1);
    const pads = node.optionalAttr('pads', 'ints') ?? [...kernel, ...kernel].map(() => 0);
    const unpooled = inDims.slice(2).map((d, i) => (d - 1) * strides[i]! + kernel[i]! - pads[i]! - pads[i + kernel.length]!);
    if (unpooled.some((d, i) => d !== outDims[i + 2])) {
      return `an output_shape [${outDims.join(',')}] other than the unpooled shape is ambiguous: ONNX's reference data and ONNX Runtime disagree on where the indices land (onnx/onnx#2398)`;
    }
    return undefined;
  },
  lower(node, context) {
    const emit = new TfliteEmitter(node, context);
    const count = staticDims(node.inputs[0])!.reduce((n, d) => n * d, 1);
    const outDims = staticDims(node.outputs[0])!;
    const total = outDims.reduce((n, d) => n * d, 1);
    const values = emit.op1('RESHAPE', [node.input(0), emit.int32([count], [1], 'flat')], {}, tensorType('float32', [count]));
    let indices = node.input(1);
    const constant = numbersOf(indices, Number.MAX_SAFE_INTEGER);
    if (constant) indices = emit.int32(constant, [count, 1], 'targets');
    else {
      if (tensorTypeOf(indices)!.dtype === 'int64') indices = emit.op1('CAST', [indices], { in_data_type: 'INT64', out_data_type: 'INT32' }, tensorType('int32', staticDims(indices) ?? null));
      indices = emit.op1('RESHAPE', [indices, emit.int32([count, 1], [2], 'target_shape')], {}, tensorType('int32', [count, 1]));
    }
    const size = emit.int32([total], [1], 'size');
    const sums = emit.op1('SCATTER_ND', [indices, values, size], {}, tensorType('float32', [total]));
    const hits = emit.op1('SCATTER_ND', [indices, emit.constant(Tensor.fromValues('float32', [count], new Array<number>(count).fill(1)), 'ones'), size], {}, tensorType('float32', [total]));
    const divisor = emit.op1('MAXIMUM', [hits, emit.constant(Tensor.fromValues('float32', [], [1]), 'one')], {}, tensorType('float32', [total]));
    const mean = emit.op1('DIV', [sums, divisor], { fused_activation_function: 'NONE' }, tensorType('float32', [total]));
    replaceNode(node, [emit.op1('RESHAPE', [mean, emit.int32(outDims, [outDims.length], 'shape')], {}, node.output(0).type)]);
  },
};

/** CenterCropPad with a constant shape → STRIDED_SLICE (the cropped axes) and PAD with zeros (the padded ones). */
const centerCropPad: LoweringRule = {
  ops: ['onnx.CenterCropPad'],
  stage: 'lower',
  targets: ['STRIDED_SLICE', 'PAD'],
  check(node) {
    if (!staticDims(node.inputs[0])) return 'CenterCropPad needs a static input shape';
    if (!numbersOf(node.inputs[1])) return 'the target shape must be a constant';
    if (!staticDims(node.outputs[0])) return 'CenterCropPad needs its output shape (run shape inference first)';
    return undefined;
  },
  lower(node, context) {
    const emit = new TfliteEmitter(node, context);
    const inDims = staticDims(node.inputs[0])!;
    const outDims = staticDims(node.outputs[0])!;
    const rank = inDims.length;
    const cropped = inDims.map((d, i) => Math.min(d, outDims[i]!));
    let x = node.input(0);
    if (cropped.some((d, i) => d !== inDims[i])) {
      const begin = inDims.map((d, i) => Math.floor((d - cropped[i]!) / 2));
      const end = begin.map((b, i) => b + cropped[i]!);
      const options = { begin_mask: 0, end_mask: 0, ellipsis_mask: 0, new_axis_mask: 0, shrink_axis_mask: 0, offset: 0 };
      const bounds = [emit.int32(begin, [rank], 'begin'), emit.int32(end, [rank], 'end'), emit.int32(new Array<number>(rank).fill(1), [rank], 'strides')];
      x = emit.op1('STRIDED_SLICE', [x, ...bounds], options, typeWithShape(x.type, cropped));
    }
    if (cropped.some((d, i) => d !== outDims[i])) {
      const paddings = cropped.flatMap((d, i) => {
        const before = Math.floor((outDims[i]! - d) / 2);
        return [before, outDims[i]! - d - before];
      });
      x = emit.op1('PAD', [x, emit.int32(paddings, [rank, 2], 'paddings')], {}, node.output(0).type);
    }
    replaceNode(node, [x]);
  },
};

export const unpoolCropRules: readonly LoweringRule[] = [maxUnpool, centerCropPad];
