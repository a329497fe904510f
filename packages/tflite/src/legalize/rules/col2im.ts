import { Tensor, tensorType } from '@modelpass/ir';
import { col2ImBlockCounts, col2ImGeometry, col2ImTargets } from '@modelpass/ops';
import { numbersOf } from '../constant-values.js';
import type { LoweringRule } from '../lowering-rule.js';
import { replaceNode, staticDims, tensorTypeOf, TfliteEmitter } from '../lowering-tools.js';

/**
 * Col2Im (constant image and block shapes) → SCATTER_ND, which adds the updates that meet at one
 * index: the columns `[N, C·K, L]` are laid out as `[K·L, N, C]` rows (RESHAPE, TRANSPOSE), each row
 * scattered to its image position (constant indices; rows in the padding go to one extra row that is
 * sliced off), then back to `[N, C, …image]`.
 */
const col2Im: LoweringRule = {
  ops: ['onnx.Col2Im'],
  stage: 'lower',
  targets: ['RESHAPE', 'TRANSPOSE', 'SCATTER_ND', 'STRIDED_SLICE'],
  check(node) {
    if (tensorTypeOf(node.inputs[0])?.dtype !== 'float32') return 'Col2Im is supported on float32 input';
    const image = numbersOf(node.inputs[1]);
    const block = numbersOf(node.inputs[2]);
    if (!image || !block) return 'Col2Im needs constant image_shape and block_shape';
    const dims = staticDims(node.inputs[0]);
    if (!dims || dims.length !== 3) return 'Col2Im needs a static [N, C·K, L] input';
    const geometry = col2ImGeometry(node, image, block);
    const blockSize = block.reduce((a, b) => a * b, 1);
    const positions = col2ImBlockCounts(geometry).reduce((a, b) => a * b, 1);
    if (dims[1]! % blockSize !== 0 || dims[2] !== positions) return `input [${dims.join(',')}] does not hold ${positions} blocks of ${blockSize} elements per channel`;
    return undefined;
  },
  lower(node, context) {
    const emit = new TfliteEmitter(node, context);
    const image = numbersOf(node.inputs[1])!;
    const block = numbersOf(node.inputs[2])!;
    const [n, columns, positions] = staticDims(node.inputs[0]) as [number, number, number];
    const blockSize = block.reduce((a, b) => a * b, 1);
    const channels = columns / blockSize;
    const pixels = image.reduce((a, b) => a * b, 1);
    const rows = blockSize * positions;
    const targets = Array.from(col2ImTargets(col2ImGeometry(node, image, block)), (t) => (t < 0 ? pixels : t));
    const grouped = emit.op1('RESHAPE', [node.input(0), emit.int32([n, channels, rows], [3], 'grouped_shape')], {}, tensorType('float32', [n, channels, rows]));
    const updates = emit.op1('TRANSPOSE', [grouped, emit.int32([2, 0, 1], [3], 'to_rows')], {}, tensorType('float32', [rows, n, channels]));
    const indices = emit.constant(Tensor.fromValues('int32', [rows, 1], targets), 'targets');
    const sums = emit.op1('SCATTER_ND', [indices, updates, emit.int32([pixels + 1, n, channels], [3], 'scatter_shape')], {}, tensorType('float32', [pixels + 1, n, channels]));
    const options = { begin_mask: 0, end_mask: 0, ellipsis_mask: 0, new_axis_mask: 0, shrink_axis_mask: 0, offset: 0 };
    const inside = emit.op1('STRIDED_SLICE', [sums, emit.int32([0, 0, 0], [3], 'begin'), emit.int32([pixels, n, channels], [3], 'end'), emit.int32([1, 1, 1], [3], 'strides')], options, tensorType('float32', [pixels, n, channels]));
    const planes = emit.op1('TRANSPOSE', [inside, emit.int32([1, 2, 0], [3], 'to_planes')], {}, tensorType('float32', [n, channels, pixels]));
    replaceNode(node, [emit.op1('RESHAPE', [planes, emit.int32([n, channels, ...image], [2 + image.length], 'shape')], {}, node.output(0).type)]);
  },
};

export const col2ImRules: readonly LoweringRule[] = [col2Im];
