import { Tensor, tensorType, type Dim, type DType, type Node, type Value } from '@modelpass/ir';
import { META_SHAPE_BOUND } from '../../io/metadata-keys.js';
import type { LoweringRule } from '../lowering-rule.js';
import { dimsOf, normalizeAxis, rankOfValue, replaceNode, tensorTypeName, tensorTypeOf, TfliteEmitter } from '../lowering-tools.js';

/**
 * NonZero, Compress and Unique of tensors computed at run time: ops whose output length depends on
 * the data. TFLite's WHERE and UNIQUE resize their outputs while running, and ops after them are
 * prepared again on the run-time shapes. Their outputs are written with their largest shape
 * (`META_SHAPE_BOUND`): a runtime sizes buffers from the file's shapes when it loads a model.
 */

/**
 * The dims a runtime sees for a converted model's tensor: static dims as they are, symbolic ones as
 * 1 (the TFLite engine runs the shapes written in the file, and symbolic dims are written as 1).
 */
export function loadedDims(value: Value | null | undefined): number[] | undefined {
  return dimsOf(value)?.map((dim) => (typeof dim === 'number' ? dim : 1));
}

/** Records `value`'s largest shape, which the writer puts in the file (a data-dependent value). */
export function boundShape(value: Value, largest: readonly number[]): Value {
  value.metadata.set(META_SHAPE_BOUND, largest.join(','));
  return value;
}

/** A type of `dtype` whose dims are `dims`, `null` where the data decides. */
export function dynamicType(dtype: DType, dims: readonly (number | null)[]) {
  return tensorType(dtype, dims as Dim[]);
}

/** `x != 0` as bool (a bool tensor as it is): what WHERE, Compress and NonZero count as true. */
export function truthOf(emit: TfliteEmitter, x: Value, name: string): Value {
  const type = tensorTypeOf(x)!;
  if (type.dtype === 'bool') return x;
  const zero = type.dtype === 'int64' ? Tensor.fromValues('int64', [], [0n]) : Tensor.fromValues(type.dtype, [], [0]);
  return emit.op1('NOT_EQUAL', [x, emit.constant(zero, `${name}_zero`)], {}, tensorType('bool', type.shape));
}

/** Dtypes TFLite 2.9's NOT_EQUAL compares (besides bool, which needs no comparison). */
const TRUTH_DTYPES: readonly DType[] = ['bool', 'float32', 'int32', 'int64', 'uint8', 'int8'];

/** Positions of the true elements of `condition` (any rank r): WHERE → int64 `[n, r]`, bounded by the element count. */
export function truePositions(emit: TfliteEmitter, condition: Value, name: string): Value {
  const dims = loadedDims(condition)!;
  const count = dims.reduce((n, d) => n * d, 1);
  const where = emit.op1('WHERE', [truthOf(emit, condition, name)], {}, dynamicType('int64', [null, dims.length]));
  return boundShape(where, [count, dims.length]);
}

/**
 * Why `value`'s largest shape is not known when converting: a dim inference left unknown (the
 * output of another data-dependent op, or an unnamed dim), or no rank. Named symbolic dims are laid
 * out as 1, as everywhere in a converted model.
 */
export function unboundedInput(value: Value | null | undefined, what: string): string | undefined {
  const dims = dimsOf(value);
  if (!dims) return `${what} needs a known rank (run shape inference first)`;
  if (dims.some((dim) => dim === null)) return `${what} has a dim unknown when converting (the output of another data-dependent op?), so the largest output shape TFLite needs is unknown`;
  return undefined;
}

function checkTruthInput(value: Value | null | undefined, what: string): string | undefined {
  const dtype = tensorTypeOf(value)?.dtype;
  if (!dtype || !TRUTH_DTYPES.includes(dtype)) return `${what} of dtype ${dtype ?? 'unknown'} is not supported (TFLite 2.9 compares ${TRUTH_DTYPES.join(', ')})`;
  return unboundedInput(value, what);
}

/** NonZero(x) → WHERE(x ≠ 0) `[n, r]` int64 → TRANSPOSE to ONNX's `[r, n]`. */
const nonZero: LoweringRule = {
  ops: ['onnx.NonZero'],
  stage: 'lower',
  targets: ['WHERE', 'NOT_EQUAL', 'TRANSPOSE'],
  check(node) {
    const problem = checkTruthInput(node.inputs[0], 'NonZero input');
    if (problem) return problem;
    if (rankOfValue(node.inputs[0]) === 0) return 'NonZero of a scalar is not supported (TFLite WHERE needs rank ≥ 1)';
    return undefined;
  },
  lower(node, context) {
    const emit = new TfliteEmitter(node, context);
    const dims = loadedDims(node.inputs[0])!;
    const where = truePositions(emit, node.input(0), 'x');
    const [count, rank] = [dims.reduce((n, d) => n * d, 1), dims.length];
    const transposed = emit.op1('TRANSPOSE', [where, emit.int32([1, 0], [2], 'perm')], {}, node.output(0).type);
    replaceNode(node, [boundShape(transposed, [rank, count])]);
  },
};

/**
 * Compress(x, condition) with a run-time condition → WHERE(condition) → RESHAPE to `[n]` → GATHER
 * along the axis (of the flattened input without one). A condition shorter than the axis selects
 * among its first elements, as ONNX says.
 */
export const compressAtRunTime: LoweringRule = {
  ops: ['onnx.Compress'],
  stage: 'lower',
  targets: ['WHERE', 'NOT_EQUAL', 'RESHAPE', 'GATHER'],
  check(node) {
    const problem = checkTruthInput(node.inputs[1], 'the condition');
    if (problem) return problem;
    if (rankOfValue(node.inputs[1]) !== 1) return 'the condition must be 1-D';
    const unbounded = unboundedInput(node.inputs[0], 'the Compress input');
    if (unbounded) return unbounded;
    const dims = loadedDims(node.inputs[0])!;
    const axisAttr = node.optionalAttr('axis', 'int');
    if (axisAttr !== undefined && normalizeAxis(axisAttr, dims.length) === undefined) return `axis ${axisAttr} is out of range for rank ${dims.length}`;
    const length = axisAttr === undefined ? dims.reduce((n, d) => n * d, 1) : dims[normalizeAxis(axisAttr, dims.length)!]!;
    const conditionLength = loadedDims(node.inputs[1])![0]!;
    if (conditionLength > length) return `the condition has ${conditionLength} elements, more than the ${length} it selects from`;
    if (!tensorTypeName(tensorTypeOf(node.inputs[0])?.dtype ?? 'string') || tensorTypeOf(node.inputs[0])?.dtype === 'string') return 'Compress of strings is not supported';
    return undefined;
  },
  lower(node, context) {
    const emit = new TfliteEmitter(node, context);
    const dims = loadedDims(node.inputs[0])!;
    const dtype = tensorTypeOf(node.inputs[0])!.dtype;
    const axisAttr = node.optionalAttr('axis', 'int');
    const conditionLength = loadedDims(node.inputs[1])![0]!;
    let x = node.input(0);
    let axis = 0;
    if (axisAttr === undefined) {
      const size = dims.reduce((n, d) => n * d, 1);
      x = emit.op1('RESHAPE', [x, emit.int32([size], [1], 'flat')], {}, tensorType(dtype, [size]));
    } else axis = normalizeAxis(axisAttr, dims.length)!;
    const where = truePositions(emit, node.input(1), 'condition');
    const picked = boundShape(emit.op1('RESHAPE', [where, emit.int32([-1], [1], 'picked_shape')], {}, dynamicType('int64', [null])), [conditionLength]);
    const gathered = emit.op1('GATHER', [x, picked], { axis, batch_dims: 0 }, node.output(0).type);
    const largest = axisAttr === undefined ? [conditionLength] : dims.map((d, i) => (i === axis ? conditionLength : d));
    replaceNode(node, [boundShape(gathered, largest)]);
  },
};

/** Flat inputs up to this size: the first-occurrence indices and counts compare every element with every unique value. */
const UNIQUE_MAX_ELEMENTS = 4096;
const UNIQUE_DTYPES: readonly DType[] = ['float32', 'int32', 'int64', 'int8', 'uint8', 'int16'];

/**
 * Unique(x) (flattened, or 1-D along axis 0) → UNIQUE (values in order of first occurrence, inverse
 * indices). sorted=1 orders the values with TOPK_V2 of their negation (k = their run-time count) and
 * GATHER. The first-occurrence indices, the counts and (sorted) the inverse indices come from the
 * `[n, k]` equality of every element with every value: REDUCE_MIN of the positions where equal,
 * SUM of the matches, ARG_MAX of the row.
 */
const unique: LoweringRule = {
  ops: ['onnx.Unique'],
  stage: 'lower',
  targets: ['UNIQUE', 'RESHAPE', 'SHAPE', 'NEG', 'TOPK_V2', 'GATHER', 'EQUAL', 'CAST', 'SUM', 'SELECT_V2', 'REDUCE_MIN', 'ARG_MAX'],
  check(node) {
    const dtype = tensorTypeOf(node.inputs[0])?.dtype;
    if (!dtype || !UNIQUE_DTYPES.includes(dtype)) return `Unique of dtype ${dtype ?? 'unknown'} is not supported (TFLite 2.9's UNIQUE takes ${UNIQUE_DTYPES.join(', ')})`;
    const unbounded = unboundedInput(node.inputs[0], 'the Unique input');
    if (unbounded) return unbounded;
    const dims = loadedDims(node.inputs[0])!;
    const axis = node.optionalAttr('axis', 'int');
    if (axis !== undefined && !(dims.length === 1 && (axis === 0 || axis === -1))) return `Unique along axis ${axis} of a rank-${dims.length} tensor (unique slices) is not supported: TFLite's UNIQUE takes 1-D tensors (without axis the input is flattened, which is supported)`;
    const size = dims.reduce((n, d) => n * d, 1);
    const wanted = (index: number): boolean => Boolean(node.outputs[index]?.hasUses || node.outputs[index]?.isGraphOutput);
    const needsMatrix = wanted(1) || wanted(3) || (isSorted(node) && wanted(2));
    if (needsMatrix && size > UNIQUE_MAX_ELEMENTS) return `Unique's indices/counts outputs of ${size} elements are not supported (at most ${UNIQUE_MAX_ELEMENTS}: they compare every element with every unique value)`;
    return undefined;
  },
  lower(node, context) {
    const emit = new TfliteEmitter(node, context);
    const dims = loadedDims(node.inputs[0])!;
    const size = dims.reduce((n, d) => n * d, 1);
    const dtype = tensorTypeOf(node.inputs[0])!.dtype;
    const wanted = (index: number): boolean => Boolean(node.outputs[index]?.hasUses || node.outputs[index]?.isGraphOutput);
    const flat = dims.length === 1 ? node.input(0) : emit.op1('RESHAPE', [node.input(0), emit.int32([size], [1], 'flat')], {}, tensorType(dtype, [size]));
    const found = emit.op('UNIQUE', [flat], { idx_out_type: 'INT64' }, [dynamicType(dtype, [null]), tensorType('int64', [size])]);
    let values = boundShape(found.output(0), [size]);
    const sorted = isSorted(node);
    if (sorted) {
      const count = emit.op1('SHAPE', [values], { out_type: 'INT32' }, tensorType('int32', [1]));
      const k = emit.op1('RESHAPE', [count, emit.int32([], [0], 'scalar')], {}, tensorType('int32', []));
      const negated = emit.op1('NEG', [values], {}, values.type);
      const order = emit.op('TOPK_V2', [negated, k], {}, [dynamicType(dtype, [null]), dynamicType('int32', [null])]);
      boundShape(order.output(0), [size]);
      values = boundShape(emit.op1('GATHER', [values, boundShape(order.output(1), [size])], { axis: 0, batch_dims: 0 }, dynamicType(dtype, [null])), [size]);
    }
    const results: (Value | null)[] = [values, null, null, null];
    if (!sorted && wanted(2)) results[2] = found.output(1);
    if (wanted(1) || wanted(3) || (sorted && wanted(2))) {
      const column = emit.op1('RESHAPE', [flat, emit.int32([size, 1], [2], 'column')], {}, tensorType(dtype, [size, 1]));
      const row = boundShape(emit.op1('RESHAPE', [values, emit.int32([1, -1], [2], 'row')], {}, dynamicType(dtype, [1, null])), [1, size]);
      const equal = boundShape(emit.op1('EQUAL', [column, row], {}, dynamicType('bool', [size, null])), [size, size]);
      const toInt64 = (value: Value, shape: (number | null)[]): Value => emit.op1('CAST', [value], { in_data_type: 'INT32', out_data_type: 'INT64' }, dynamicType('int64', shape));
      const matches = boundShape(emit.op1('CAST', [equal], { in_data_type: 'BOOL', out_data_type: 'INT32' }, dynamicType('int32', [size, null])), [size, size]);
      if (wanted(1)) {
        const positions = emit.int32(Array.from({ length: size }, (_, i) => i), [size, 1], 'positions');
        const masked = boundShape(emit.op1('SELECT_V2', [equal, positions, emit.int32([size], [], 'past_end')], {}, dynamicType('int32', [size, null])), [size, size]);
        const first = boundShape(emit.op1('REDUCE_MIN', [masked, emit.int32([0], [1], 'rows')], { keep_dims: 0 }, dynamicType('int32', [null])), [size]);
        results[1] = boundShape(toInt64(first, [null]), [size]);
      }
      if (sorted && wanted(2)) results[2] = emit.op1('ARG_MAX', [matches, emit.int32([1], [], 'columns')], { output_type: 'INT64' }, tensorType('int64', [size]));
      if (wanted(3)) {
        const counts = boundShape(emit.op1('SUM', [matches, emit.int32([0], [1], 'count_rows')], { keep_dims: 0 }, dynamicType('int32', [null])), [size]);
        results[3] = boundShape(toInt64(counts, [null]), [size]);
      }
    }
    replaceNode(node, results);
  },
};

function isSorted(node: Node): boolean {
  return (node.optionalAttr('sorted', 'int') ?? 1) !== 0;
}

export const dataDependentRules: readonly LoweringRule[] = [nonZero, unique];
