/**
 * SLICE and DYNAMIC_UPDATE_SLICE, whose positions may be run-time values (legalize-tflite writes
 * them for the scan outputs of a WHILE), → canonical ops:
 * - SLICE(x, begin, size) → Slice(x, begin, end) with end = begin + size, or past the end where size is -1;
 * - DYNAMIC_UPDATE_SLICE(operand, update, start) → Where(mask, Pad(update), operand), the pads
 *   being the start clamped so the update fits (as TFLite and XLA clamp it) and what is left after it.
 */
import { attrs, Tensor, tensorType, type Node } from '@modelpass/ir';
import { staticDims, tensorTypeOf } from '../../legalize/lowering-tools.js';
import { CanonicalEmitter, replaceRaised } from '../canonical-emitter.js';
import type { RaiseRule } from '../raise-rule.js';

/** An end past any dim (ONNX Slice clamps it). */
const PAST_THE_END = 2 ** 53 - 1;
const INT64 = 7;

const slice: RaiseRule = {
  ops: ['tflite.SLICE'],
  targets: ['Slice', 'Cast', 'Add', 'Less', 'Where'],
  check: (node) => (staticDims(node.inputs[1])?.length === 1 && tensorTypeOf(node.inputs[0]) ? undefined : 'SLICE needs a 1-D begin and a typed input'),
  raise(node) {
    const emit = new CanonicalEmitter(node);
    const rank = staticDims(node.inputs[1])![0]!;
    const vector = tensorType('int64', [rank]);
    const begin = emit.op1('Cast', [node.input(1)], { to: attrs.int(INT64) }, vector);
    const size = emit.op1('Cast', [node.input(2)], { to: attrs.int(INT64) }, vector);
    const toEnd = emit.op1('Less', [size, emit.int64([0], 'zero', [])], {}, tensorType('bool', [rank]));
    const end = emit.op1('Where', [toEnd, emit.int64([PAST_THE_END], 'past_the_end', []), emit.op1('Add', [begin, size], {}, vector)], {}, vector);
    const axes = emit.int64(Array.from({ length: rank }, (_, i) => i), 'axes');
    replaceRaised(node, [emit.op1('Slice', [node.input(0), begin, end, axes], {}, node.output(0).type)]);
  },
};

const dynamicUpdateSlice: RaiseRule = {
  ops: ['tflite.DYNAMIC_UPDATE_SLICE'],
  targets: ['Cast', 'Max', 'Min', 'Sub', 'Concat', 'Pad', 'Greater', 'Where'],
  check: (node) => (staticDims(node.inputs[0]) && staticDims(node.inputs[1]) ? undefined : 'DYNAMIC_UPDATE_SLICE needs static operand and update shapes'),
  raise(node) {
    const emit = new CanonicalEmitter(node);
    const dims = staticDims(node.inputs[0])!;
    const updateDims = staticDims(node.inputs[1])!;
    const rank = dims.length;
    const vector = tensorType('int64', [rank]);
    const room = emit.int64(dims.map((d, i) => d - updateDims[i]!), 'room');
    const start = emit.op1('Min', [emit.op1('Max', [emit.op1('Cast', [node.input(2)], { to: attrs.int(INT64) }, vector), emit.int64(new Array<number>(rank).fill(0), 'zeros')], {}, vector), room], {}, vector);
    const pads = emit.op1('Concat', [start, emit.op1('Sub', [room, start], {}, vector)], { axis: attrs.int(0) }, tensorType('int64', [2 * rank]));
    const type = node.output(0).type;
    const placed = emit.op1('Pad', [node.input(1), pads], {}, type);
    const ones = emit.constant(Tensor.fromValues('float32', updateDims, new Array<number>(updateDims.reduce((n, d) => n * d, 1)).fill(1)), 'ones');
    const mask = emit.op1('Greater', [emit.op1('Pad', [ones, pads], {}, tensorType('float32', dims)), emit.constant(Tensor.scalar('float32', 0.5), 'half')], {}, tensorType('bool', dims));
    replaceRaised(node, [emit.op1('Where', [mask, placed, node.input(0)], {}, type)]);
  },
};

export const runTimeSlicingRaiseRules: readonly RaiseRule[] = [slice, dynamicUpdateSlice];
