import { Tensor, tensorType } from '@modelpass/ir';
import { constantOf } from '../constant-values.js';
import type { LoweringRule } from '../lowering-rule.js';
import { compressAtRunTime, dataDependentRules } from './data-dependent.js';
import { nonMaxSuppression } from './non-max-suppression.js';
import { dimsOf, normalizeAxis, rankOfValue, replaceNode, staticDims, tensorTypeOf, TfliteEmitter } from '../lowering-tools.js';

/**
 * Indexing ops whose output length depends on the data. With the data known when converting (a
 * constant condition) they become static GATHERs; computed at run time, WHERE/UNIQUE/a SLICE by a
 * run-time count, which resize their outputs while running (`data-dependent.ts`, `non-max-suppression.ts`).
 */

function compressIndices(condition: Tensor, length: number): number[] {
  const flags = condition.toNumbers();
  const picked: number[] = [];
  for (let i = 0; i < Math.min(flags.length, length); i++) if (flags[i]) picked.push(i);
  return picked;
}

/**
 * Compress with a constant condition → GATHER of the selected indices (after a RESHAPE to 1-D when
 * there is no axis); with a run-time condition, `compressAtRunTime` (WHERE, a GATHER of data-dependent length).
 */
const compress: LoweringRule = {
  ops: ['onnx.Compress'],
  stage: 'lower',
  targets: ['GATHER', 'RESHAPE', ...compressAtRunTime.targets.filter((target) => target !== 'GATHER' && target !== 'RESHAPE')],
  check(node, context) {
    const condition = constantOf(node.inputs[1]);
    if (!condition) return compressAtRunTime.check(node, context);
    const dims = staticDims(node.inputs[0]);
    if (!dims) return 'Compress needs a static input shape';
    const axisAttr = node.optionalAttr('axis', 'int');
    const axis = axisAttr === undefined ? undefined : normalizeAxis(axisAttr, dims.length);
    if (axisAttr !== undefined && axis === undefined) return `axis ${axisAttr} is out of range for rank ${dims.length}`;
    const length = axis === undefined ? dims.reduce((n, d) => n * d, 1) : dims[axis]!;
    if (compressIndices(condition, length).length === 0) return 'the condition selects nothing; TFLite has no empty tensors here';
    return undefined;
  },
  lower(node, context) {
    if (!constantOf(node.inputs[1])) return compressAtRunTime.lower(node, context);
    const emit = new TfliteEmitter(node, context);
    const dims = staticDims(node.inputs[0])!;
    const axisAttr = node.optionalAttr('axis', 'int');
    let x = node.input(0);
    let axis = 0;
    if (axisAttr === undefined) {
      const size = dims.reduce((n, d) => n * d, 1);
      x = emit.op1('RESHAPE', [x, emit.int32([size], [1], 'flat')], {}, tensorType(tensorTypeOf(x)!.dtype, [size]));
    } else axis = normalizeAxis(axisAttr, dims.length)!;
    const picked = compressIndices(constantOf(node.inputs[1])!, axisAttr === undefined ? dims.reduce((n, d) => n * d, 1) : dims[axis]!);
    replaceNode(node, [emit.op1('GATHER', [x, emit.int32(picked, [picked.length], 'picked')], { axis, batch_dims: 0 }, node.output(0).type)]);
  },
};

/** ReverseSequence → REVERSE_SEQUENCE (time_axis → seq_dim, batch_axis → batch_dim; int64 lengths taken as they are). */
const reverseSequence: LoweringRule = {
  ops: ['onnx.ReverseSequence'],
  stage: 'lower',
  targets: ['REVERSE_SEQUENCE', 'CAST'],
  check(node) {
    const rank = rankOfValue(node.inputs[0]);
    if (rank === undefined || rank < 2) return 'ReverseSequence needs an input of known rank ≥ 2';
    const dtype = tensorTypeOf(node.inputs[0])?.dtype;
    if (!['float32', 'int32', 'int64', 'uint8', 'int16', 'int8'].includes(dtype ?? '')) return `ReverseSequence on ${dtype ?? 'untyped'} tensors has no TFLite kernel`;
    const lengths = tensorTypeOf(node.inputs[1])?.dtype;
    if (lengths !== 'int32' && lengths !== 'int64') return 'sequence_lens must be int32 or int64';
    return undefined;
  },
  lower(node, context) {
    const emit = new TfliteEmitter(node, context);
    const options = { seq_dim: node.optionalAttr('time_axis', 'int') ?? 0, batch_dim: node.optionalAttr('batch_axis', 'int') ?? 1 };
    let lengths = node.input(1);
    const given = constantOf(lengths);
    if (given) lengths = emit.int32(given.toNumbers(), given.shape, 'lengths');
    else if (tensorTypeOf(lengths)!.dtype === 'int64') lengths = emit.op1('CAST', [lengths], { in_data_type: 'INT64', out_data_type: 'INT32' }, tensorType('int32', dimsOf(lengths) ?? null));
    replaceNode(node, [emit.op1('REVERSE_SEQUENCE', [node.input(0), lengths], options, node.output(0).type)]);
  },
};

export const dynamicIndexRules: readonly LoweringRule[] = [compress, reverseSequence, ...dataDependentRules, nonMaxSuppression];
