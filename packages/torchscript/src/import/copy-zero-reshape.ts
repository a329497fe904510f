/**
 * ONNX Reshape's copy-a-zero rule as modelpass writes it into TorchScript, read back as the Reshape it came from.
 *
 * The writer spells `Reshape(x, sizes)` with computed sizes as
 *   `s = torch.where(torch.eq(sizes, 0), torch.slice(torch._shape_as_tensor(x), 0, 0, n, 1), sizes)`
 * (or, with more sizes than x has dims, a `torch.cat` of that over the first rank sizes and the rest as they are), then
 * `torch._reshape_from_tensor(x, s)`. Each 0 in `sizes` becomes x's dim there, which is exactly what ONNX Reshape does
 * with a 0, so `Reshape(x, sizes)` is the same computation; read that way, shape inference sees through `sizes` (a
 * Concat of Shape slices keeps `x.view(x.size(0), -1, 4)` as [n, 12, 4]) where it cannot see through the Where
 * (QA s19 F6: [?, ?, ?]).
 */
import type { Node, Value } from '@modelpass/ir';

/** `sizes` when `target` is the writer's copy-a-zero spelling of `Reshape(x, sizes)`; undefined otherwise. */
export function copyZeroReshapeSizes(x: Value, target: Value): Value | undefined {
  const producer = target.producer;
  if (producer?.op === 'onnx.Where') return whereOverShape(x, producer, 0);
  if (producer?.op !== 'onnx.Concat' || producer.inputs.length !== 2 || producer.attr('axis', 'int') !== 0) return undefined;
  // More sizes than dims: Concat([Where(Equal(head, 0), Shape(x), head), Slice(sizes, rank, length)]), head = Slice(sizes, 0, rank).
  const [copied, rest] = producer.inputs;
  const where = copied?.producer;
  if (where?.op !== 'onnx.Where' || !rest) return undefined;
  const head = whereOverShape(x, where, 0);
  const rank = rankOf(x);
  if (!head || rank === undefined) return undefined;
  const sizes = sliceSource(head, 0, rank);
  if (!sizes || sliceSource(rest, rank, lengthOf(sizes)) !== sizes) return undefined;
  return sizes;
}

/** Erases `value`'s producer and the producers before it that nothing else reads (the Where the reading no longer needs). */
export function eraseIfUnused(value: Value): void {
  if (value.hasUses || value.isGraphOutput) return;
  if (value.isConstant) {
    value.graph?.removeConstant(value);
    return;
  }
  const node = value.producer;
  if (!node || node.outputs.some((output) => output?.hasUses || output?.isGraphOutput)) return;
  const inputs = node.inputs.filter((input): input is Value => input !== null);
  node.erase();
  for (const input of new Set(inputs)) eraseIfUnused(input);
}

/** `sizes` of `Where(Equal(sizes, 0), dims of x from `start` on, sizes)`. */
function whereOverShape(x: Value, where: Node, start: number): Value | undefined {
  const [condition, copied, sizes] = where.inputs;
  const equal = condition?.producer;
  if (!sizes || !copied || equal?.op !== 'onnx.Equal' || equal.inputs[0] !== sizes || !isZero(equal.inputs[1] ?? null)) return undefined;
  const length = lengthOf(sizes);
  return length !== undefined && isDimsOf(copied, x, start, length) ? sizes : undefined;
}

/** Whether `value` holds x's dims [start, start + length): Shape(x), a slice of it, or those dims folded to a constant. */
function isDimsOf(value: Value, x: Value, start: number, length: number): boolean {
  const rank = rankOf(x);
  if (rank === undefined || start + length > rank) return false;
  if (value.isConstant) {
    const dims = x.type.kind === 'tensor' ? x.type.shape : undefined;
    const held = value.constant?.toNumbers();
    return !!dims && !!held && held.length === length && held.every((dim, i) => dims[start + i] === dim);
  }
  const node = value.producer;
  if (node?.op === 'onnx.Shape' && node.inputs[0] === x && !node.getAttribute('start') && !node.getAttribute('end')) return start === 0 && length === rank;
  if (node?.op !== 'onnx.Slice') return false;
  const shape = node.inputs[0]?.producer;
  if (shape?.op !== 'onnx.Shape' || shape.inputs[0] !== x || shape.getAttribute('start') || shape.getAttribute('end')) return false;
  return sliceSource(value, start, start + length) === node.inputs[0];
}

/** The tensor that `value` slices as `[start:end]` along axis 0 with step 1; undefined for anything else. */
function sliceSource(value: Value, start: number, end: number | undefined): Value | undefined {
  const node = value.producer;
  if (node?.op !== 'onnx.Slice' || end === undefined) return undefined;
  const [source, starts, ends, axes, steps] = node.inputs;
  const one = (v: Value | null | undefined, expected: number): boolean => {
    const held = v?.isConstant ? v.constant?.toNumbers() : undefined;
    return held?.length === 1 && held[0] === expected;
  };
  if (!source || !one(starts, start) || !one(ends, end)) return undefined;
  if (axes && !one(axes, 0)) return undefined;
  if (steps && !one(steps, 1)) return undefined;
  return source;
}

function isZero(value: Value | null): boolean {
  const held = value?.isConstant ? value.constant?.toNumbers() : undefined;
  return !!held && held.length === 1 && held[0] === 0;
}

function rankOf(value: Value): number | undefined {
  return value.type.kind === 'tensor' ? value.type.shape?.length : undefined;
}

/** The length of a 1-D value when known. */
function lengthOf(value: Value): number | undefined {
  const shape = value.type.kind === 'tensor' ? value.type.shape : undefined;
  return shape?.length === 1 && typeof shape[0] === 'number' ? shape[0] : undefined;
}
