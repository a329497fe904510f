/** Indexing ops (Gather, GatherElements, Slice, ScatterND, ScatterElements, Trilu) as `torch.select`/`index_select`/`gather`/`slice`/`index_put`/`scatter`/`triu`. */
import { isTensorType, type Node } from '@modelpass/ir';
import { pyInt, type EmitContext, type OpEmitter } from './emit-context.js';
import { input, shapeLength } from './emit-operands.js';

const gather: OpEmitter = (e, node) => {
  const axis = node.attr('axis', 'int', 0);
  const indices = e.constantOf(node.inputs[1]);
  if (indices && indices.rank === 0) {
    e.assign(node, `torch.select(${input(e, node)}, ${axis}, ${indices.toNumbers()[0]})`);
    return;
  }
  if (indices && indices.rank === 1) {
    // ONNX counts negative indices from the end; index_select refuses them ("index out of range"): wrap them.
    const negative = indices.toNumbers().some((i) => i < 0);
    const index = negative ? `torch.remainder(${input(e, node, 1)}, torch.size(${input(e, node)}, ${axis}))` : input(e, node, 1);
    e.assign(node, `torch.index_select(${input(e, node)}, ${axis}, ${index})`);
    return;
  }
  // Computed (or rank ≥ 2 constant) indices into a matrix along axis 0: an embedding lookup (token ids). torch.embedding takes any index
  // shape and gives indices.shape + [D], as Gather does; negative ids count from the end in ONNX, so they are wrapped.
  // Constant indices of rank 2 or more take this way too (a position table indexed by a folded arange, GPT-style).
  if ((axis === 0 || axis === -2) && e.rank(node.inputs[0] ?? null) === 2 && e.rank(node.inputs[1] ?? null) !== undefined) {
    const table = input(e, node);
    e.assign(node, `torch.embedding(${table}, torch.remainder(${input(e, node, 1)}, torch.size(${table}, 0)), -1, False, False)`);
    return;
  }
  // Any other index tensor along any axis: index_select of the flattened indices (wrapped, as ONNX counts negative
  // ones from the end), reshaped to data.shape[:axis] + indices.shape + data.shape[axis + 1:].
  const rank = e.rank(node.inputs[0] ?? null);
  if (rank === undefined || e.rank(node.inputs[1] ?? null) === undefined) return e.fail(node, 'indices into a tensor of unknown rank');
  const at = axis < 0 ? axis + rank : axis;
  const data = input(e, node);
  const flat = `${e.name(node.output(0))}_flat`;
  e.line(`${flat} = torch.remainder(torch.reshape(${input(e, node, 1)}, [-1]), torch.size(${data}, ${at}))`);
  const dims = `${e.name(node.output(0))}_dims`;
  e.line(`${dims} : List[int] = torch.size(${data})[:${at}] + torch.size(${input(e, node, 1)}) + torch.size(${data})[${at + 1}:]`);
  e.assign(node, `torch.reshape(torch.index_select(${data}, ${at}, ${flat}), ${dims})`);
};

/**
 * A negative-step slice along `dim` (torch.slice takes positive steps only): ONNX clamps start to
 * [0, D-1] and end to [-1, D-1] and takes start, start+step, … while above end, which is the run
 * (end, start] ascending, flipped, then every |step|-th element. Needs the size D of `dim`.
 */
function reversedSlice(e: EmitContext, node: Node, expression: string, dim: number, start: number, end: number, step: number): string {
  const value = node.inputs[0] ?? null;
  const size = value && isTensorType(value.type) ? value.type.shape?.[dim] : undefined;
  if (typeof size !== 'number') return e.fail(node, `a negative step along dim ${dim}, whose size is not static`);
  const from = Math.min(Math.max(start < 0 ? start + size : start, 0), size - 1);
  const to = Math.min(Math.max(end < 0 ? end + size : end, -1), size - 1);
  if (from <= to) return `torch.slice(${expression}, ${dim}, 0, 0, 1)`;
  const flipped = `torch.flip(torch.slice(${expression}, ${dim}, ${to + 1}, ${from + 1}, 1), [${dim}])`;
  return step === -1 ? flipped : `torch.slice(${flipped}, ${dim}, 0, ${from - to}, ${-step})`;
}

const slice: OpEmitter = (e, node) => {
  // Slice-1 (before opset 10) holds starts, ends and axes as attributes, with no steps.
  const legacy = e.onnxOpset < 10;
  const starts = legacy ? node.attr('starts', 'ints') : e.constantInts(node.inputs[1] ?? null);
  const ends = legacy ? node.attr('ends', 'ints') : e.constantInts(node.inputs[2] ?? null);
  const rank = e.rank(node.inputs[0] ?? null);
  const count = starts?.length ?? ends?.length ?? e.constantInts(node.inputs[3] ?? null)?.length ?? shapeLength(node.inputs[1] ?? null);
  const givenAxes = legacy ? node.optionalAttr('axes', 'ints') : node.inputs[3] ? e.constantInts(node.inputs[3]) : undefined;
  const axes = givenAxes ?? ((legacy || !node.inputs[3]) && count !== undefined ? Array.from({ length: count }, (_, i) => i) : undefined);
  const steps = !legacy && node.inputs[4] ? e.constantInts(node.inputs[4]) : axes?.map(() => 1);
  if (!axes || !steps) return e.fail(node, 'computed axes or steps');
  if (!starts || !ends) {
    // Bounds computed at run time (torch's chunk over a symbolic size): each one read as a Python int; positive steps only.
    if (steps.some((step) => step < 1)) return e.fail(node, 'computed starts/ends with a negative step');
    const bound = (values: readonly number[] | undefined, index: number, i: number): string => (values ? pyInt(values[i]!) : `int(torch.select(${input(e, node, index)}, 0, ${i}))`);
    let computed = input(e, node);
    axes.forEach((axis, i) => {
      const dim = axis < 0 ? (rank === undefined ? e.fail(node, 'a negative axis with the rank unknown') : axis + rank) : axis;
      computed = `torch.slice(${computed}, ${dim}, ${bound(starts, 1, i)}, ${bound(ends, 2, i)}, ${steps[i]})`;
    });
    e.assign(node, computed);
    return;
  }
  let expression = input(e, node);
  axes.forEach((axis, i) => {
    const dim = axis < 0 ? (rank === undefined ? e.fail(node, 'a negative axis with the rank unknown') : axis + rank) : axis;
    const step = steps[i]!;
    if (step === 0) e.fail(node, 'a zero step');
    if (step < 0) {
      expression = reversedSlice(e, node, expression, dim, starts[i]!, ends[i]!, step);
      return;
    }
    expression = `torch.slice(${expression}, ${dim}, ${pyInt(starts[i]!)}, ${pyInt(ends[i]!)}, ${step})`;
  });
  e.assign(node, expression);
};

/**
 * ScatterND → `torch.index_put` with one index tensor per addressed leading dim (the last axis of
 * ONNX's indices, whose length must be static); updates already have torch's value shape
 * `indices.shape[:-1] + data.shape[k:]`. Reduction add → accumulate; the others are refused.
 */
const scatterNd: OpEmitter = (e, node) => {
  const reduction = node.attr('reduction', 'string', 'none');
  if (reduction !== 'none' && reduction !== 'add') return e.fail(node, `reduction ${reduction} (torch's index_put adds or replaces)`);
  const indices = node.inputs[1] ?? null;
  const shape = indices && isTensorType(indices.type) ? indices.type.shape : undefined;
  const depth = shape?.[shape.length - 1];
  if (typeof depth !== 'number') return e.fail(node, 'indices whose last dim (the index depth) is not static');
  const parts = Array.from({ length: depth }, (_, j) => `torch.select(${input(e, node, 1)}, -1, ${j})`);
  e.assign(node, `torch.index_put(${input(e, node)}, [${parts.join(', ')}], ${input(e, node, 2)}, ${reduction === 'add' ? 'True' : 'False'})`);
};

/**
 * ScatterElements (reduction none or add) → torch.scatter / torch.scatter_add along `axis`; negative indices (ONNX
 * counts them from the end, torch refuses them) wrapped by torch.where unless they are constants ≥ 0.
 */
const scatterElements: OpEmitter = (e, node) => {
  const reduction = node.attr('reduction', 'string', 'none');
  if (reduction !== 'none' && reduction !== 'add') return e.fail(node, `reduction ${reduction} (torch.scatter replaces, scatter_add adds)`);
  const rank = e.rank(node.inputs[0] ?? null);
  const rawAxis = node.attr('axis', 'int', 0);
  if (rawAxis < 0 && rank === undefined) return e.fail(node, 'a negative axis with the data rank unknown');
  const axis = rawAxis < 0 ? rawAxis + rank! : rawAxis;
  const data = input(e, node);
  const known = e.constantInts(node.inputs[1] ?? null);
  const raw = input(e, node, 1);
  const indices = known && known.every((i) => i >= 0) ? raw : `torch.where(torch.lt(${raw}, 0), torch.add(${raw}, torch.size(${data}, ${axis})), ${raw})`;
  e.assign(node, `torch.${reduction === 'add' ? 'scatter_add' : 'scatter'}(${data}, ${axis}, ${indices}, ${input(e, node, 2)})`);
};

/**
 * GatherElements → torch.gather along `axis`. torch takes int64 indices only and refuses negative ones (ONNX counts
 * them from the end), so int32 indices are widened and negative ones wrapped unless they are constants ≥ 0.
 */
const gatherElements: OpEmitter = (e, node) => {
  const rank = e.rank(node.inputs[0] ?? null);
  const rawAxis = node.attr('axis', 'int', 0);
  if (rawAxis < 0 && rank === undefined) return e.fail(node, 'a negative axis with the data rank unknown');
  const axis = rawAxis < 0 ? rawAxis + rank! : rawAxis;
  const data = input(e, node);
  const indexType = node.inputs[1]?.type;
  const raw = indexType && isTensorType(indexType) && indexType.dtype === 'int32' ? `torch.to(${input(e, node, 1)}, 4, False, False, None)` : input(e, node, 1);
  const known = e.constantInts(node.inputs[1] ?? null);
  const indices = known && known.every((i) => i >= 0) ? raw : `torch.where(torch.lt(${raw}, 0), torch.add(${raw}, torch.size(${data}, ${axis})), ${raw})`;
  e.assign(node, `torch.gather(${data}, ${axis}, ${indices})`);
};

/** Trilu → torch.triu / torch.tril with the diagonal offset k (a constant input, default 0). */
const trilu: OpEmitter = (e, node) => {
  const k = node.inputs[1] ? e.constantNumber(node.inputs[1]) : 0;
  if (k === undefined) return e.fail(node, 'a diagonal offset k computed at run time');
  e.assign(node, `torch.${node.attr('upper', 'int', 1) === 1 ? 'triu' : 'tril'}(${input(e, node)}, ${k})`);
};

export const indexingEmitters: ReadonlyArray<[string, OpEmitter]> = [
  ['onnx.Gather', gather],
  ['onnx.GatherElements', gatherElements],
  ['onnx.Slice', slice],
  ['onnx.ScatterND', scatterNd],
  ['onnx.ScatterElements', scatterElements],
  ['onnx.Trilu', trilu],
];
