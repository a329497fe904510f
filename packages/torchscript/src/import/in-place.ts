/**
 * In-place aten ops in an SSA import. After `y.mul_(2)` (a statement whose result TorchScript
 * discards) the names bound to `y` are rebound to the result.
 *
 * Writes into a slice (`y[:, 0] = 0` prints as `copy_(select(slice(y), 1, 0), …)`, `y[..., :2] *= 2`
 * as `mul_(slice(y, -1, 0, 2), 2)`): results of `slice` (step 1) and `select` with known ints
 * remember their base and the step, and the write is carried back into every base along the chain
 * as `Where(mask, Pad(new part), base)` (the sliced dims' sizes must be known; a symbolic batch
 * elsewhere is fine). A slice of the written tensor taken before the write, read after it, would
 * see the new values in torch; it is refused where it is read. In-place ops on other views
 * (`split`, `narrow`, `expand`, a strided slice, computed bounds) are refused at their location.
 */
import { onnxCodeOf, Tensor, type Value } from '@modelpass/ir';
import type { Env } from './control-flow.js';
import { knownShape, type LoweringContext, type TensorValue } from './lowering.js';
import type { ScriptValue } from './script-value.js';

/** `relu_`, `masked_fill_`, `add_`: aten ops that mutate their first argument (not `__and__`-style dunders). */
export function isInPlace(name: string): boolean {
  return name.endsWith('_') && !name.endsWith('__') && !name.startsWith('_');
}

type ViewStep = { op: 'slice'; dim: number; start: number | null; end: number | null } | { op: 'select'; dim: number; index: number };

interface Provenance {
  base: TensorValue;
  step: ViewStep;
}

/** Ops whose result shares part of its input's storage in torch: writing into it writes the input. */
export const PARTIAL_VIEW_OPS = new Set(['slice', 'select', 'narrow', '__getitem__', 'split', 'split_with_sizes', 'chunk', 'unbind', 'expand', 'expand_as', 'diagonal', 'as_strided', 'unfold']);
const UNTRACKED_VIEWS = new WeakSet<object>();
const PROVENANCE = new WeakMap<object, Provenance>();
const VIEWS_OF = new WeakMap<object, object[]>();
const STALE = new WeakSet<object>();
/** Whether any value was ever marked stale in this process: until one is, no list needs walking (a list grown by appends made each call O(length)). */
let anyStale = false;

function markUntracked(value: ScriptValue): void {
  if (value.kind === 'tensor') UNTRACKED_VIEWS.add(value.value);
  else if (value.kind === 'list' || value.kind === 'tuple') value.items.forEach(markUntracked);
}

function knownInt(value: ScriptValue | undefined): number | null | undefined {
  if (value === undefined || value.kind === 'none') return null;
  if (value.kind === 'int') return value.value;
  return undefined;
}

/** Records what a view op's result is a view of (`args` as the aten call got them). */
export function recordView(op: string, args: readonly ScriptValue[], result: ScriptValue): void {
  const base = args[0];
  if (base?.kind !== 'tensor' || base.scalarInt || !PARTIAL_VIEW_OPS.has(op)) return;
  let step: ViewStep | undefined;
  if (op === 'slice' && result.kind === 'tensor') {
    const [dim, start, end, stride] = [knownInt(args[1]) ?? 0, knownInt(args[2]), knownInt(args[3]), knownInt(args[4]) ?? 1];
    if (start !== undefined && end !== undefined && stride === 1) step = { op: 'slice', dim, start, end };
  } else if (op === 'select' && result.kind === 'tensor') {
    const [dim, index] = [knownInt(args[1]), knownInt(args[2])];
    if (typeof dim === 'number' && typeof index === 'number') step = { op: 'select', dim, index };
  }
  if (!step || result.kind !== 'tensor') return markUntracked(result);
  PROVENANCE.set(result.value, { base, step });
  const siblings = VIEWS_OF.get(base.value) ?? [];
  siblings.push(result.value);
  VIEWS_OF.set(base.value, siblings);
}

/** Why an in-place op on `value` cannot be imported, or undefined when it can. */
export function inPlaceRefusal(value: ScriptValue | undefined): string | undefined {
  if (value?.kind !== 'tensor' || !UNTRACKED_VIEWS.has(value.value)) return undefined;
  return 'writes into a view of another tensor (a split/narrow/expand result, a strided slice or one with computed bounds); the importer does not carry such writes back to that tensor';
}

/** True when `value` (or a tensor in it) is a slice taken before its tensor was written in place. */
export function isStale(value: ScriptValue): boolean {
  if (!anyStale) return false;
  if (value.kind === 'tensor') return STALE.has(value.value);
  if (value.kind === 'list' || value.kind === 'tuple') return value.items.some(isStale);
  return false;
}

/** The part of its root tensor a view covers: per root dim, [start, end); undefined where not known. */
type Region = Map<number, [number, number]>;

function regionOf(view: object): { root: object; region: Region | undefined } {
  const chain: Provenance[] = [];
  let root = view;
  for (let p = PROVENANCE.get(root); p; p = PROVENANCE.get(root)) {
    chain.unshift(p);
    root = p.base.value;
  }
  const region: Region = new Map();
  let remaining: number[] | undefined;
  for (const { base, step } of chain) {
    const shape = knownShape(base);
    const rank = base.rank ?? shape?.length;
    if (rank === undefined) return { root, region: undefined };
    remaining ??= Array.from({ length: rank }, (_, i) => i);
    const dim = step.dim < 0 ? step.dim + rank : step.dim;
    if (isWholeDim(step)) continue; // `y[:]` along a dim covers all of it, whatever its size
    const rootDim = remaining[dim];
    const length = shape?.[dim];
    if (rootDim === undefined || typeof length !== 'number') return { root, region: undefined };
    const offset = region.get(rootDim)?.[0] ?? 0;
    if (step.op === 'select') {
      const index = step.index < 0 ? step.index + length : step.index;
      region.set(rootDim, [offset + index, offset + index + 1]);
      remaining.splice(dim, 1);
    } else {
      const [begin, end] = sliceBounds(step, length);
      region.set(rootDim, [offset + begin, offset + end]);
    }
  }
  return { root, region };
}

function regionsOverlap(a: Region | undefined, b: Region | undefined): boolean {
  if (!a || !b) return true;
  for (const [dim, [startA, endA]] of a) {
    const other = b.get(dim);
    if (other && !(startA < other[1] && other[0] < endA)) return false;
  }
  return true;
}

/** After a write into `written`: every other view of the same root that shares elements with it is stale. */
function markStale(written: object, chain: ReadonlySet<object>): void {
  const { root, region } = regionOf(written);
  const visit = (node: object): void => {
    for (const view of VIEWS_OF.get(node) ?? []) {
      if (!chain.has(view) && regionsOverlap(region, regionOf(view).region)) {
        STALE.add(view);
        anyStale = true;
      }
      visit(view);
    }
  };
  visit(root);
}

function isWholeDim(step: ViewStep): boolean {
  return step.op === 'slice' && (step.start === null || step.start === 0) && (step.end === null || step.end >= Number.MAX_SAFE_INTEGER);
}

function sliceBounds(step: ViewStep & { op: 'slice' }, length: number): [number, number] {
  const clamp = (v: number): number => Math.min(Math.max(v < 0 ? v + length : v, 0), length);
  const start = step.start === null ? 0 : clamp(step.start);
  const end = step.end === null ? length : clamp(step.end);
  return [start, Math.max(start, end)];
}

/** `base` with the part `step` selects replaced by `part`. */
function writeInto(ctx: LoweringContext, base: TensorValue, step: ViewStep, part: TensorValue): TensorValue {
  const shape = knownShape(base);
  const rank = base.rank ?? shape?.length;
  if (rank === undefined) return ctx.fail('writing into a slice needs the rank of the sliced tensor', 'give the input shape (CLI: --input-shape NAME=DIMS)');
  const dim = step.dim < 0 ? step.dim + rank : step.dim;
  // `y[:]` along a dim (how `y[:, 0]` starts) is the whole dim: the part is the new base, whatever its size.
  if (isWholeDim(step)) return { ...part, rank, shape };
  const length = shape?.[dim];
  if (typeof length !== 'number') return ctx.fail(`writing into a slice along dim ${dim} needs that dim's size, which is not known while importing`, 'give the input shape (CLI: --input-shape NAME=DIMS)');
  let begin: number;
  let end: number;
  let placed = part;
  if (step.op === 'select') {
    begin = step.index < 0 ? step.index + length : step.index;
    end = begin + 1;
    placed = ctx.emit('Unsqueeze', [part.value, ctx.int64Vector([dim])], {}, { rank, dtype: part.dtype });
  } else [begin, end] = sliceBounds(step, length);
  const pads = new Array<number>(rank * 2).fill(0);
  pads[dim] = begin;
  pads[rank + dim] = length - end;
  const padded = ctx.emit('Pad', [placed.value, ctx.int64Vector(pads)], {}, { rank, dtype: part.dtype });
  const maskShape = new Array<number>(rank).fill(1);
  maskShape[dim] = length;
  const mask = Tensor.fromValues('bool', maskShape, Array.from({ length }, (_, i) => i >= begin && i < end));
  return ctx.emit('Where', [ctx.builder.constant(mask, 'slice_mask'), padded.value, base.value], {}, { rank, dtype: base.dtype, shape });
}

/**
 * After an in-place op turned `mutated` into `result`: carries the write back through every base
 * the mutated value is a slice of, and rebinds the names bound to each old value.
 */
export function applyInPlace(ctx: LoweringContext, env: Env, mutated: ScriptValue, result: ScriptValue): void {
  if (mutated.kind !== 'tensor' || result.kind !== 'tensor' || result.value === mutated.value) return;
  const chain = new Set<object>([mutated.value]);
  for (let p = PROVENANCE.get(mutated.value); p; p = PROVENANCE.get(p.base.value)) chain.add(p.base.value);
  markStale(mutated.value, chain);
  // An in-place op keeps the mutated tensor's dtype.
  const first = result.dtype === mutated.dtype || !mutated.dtype ? result : ctx.emit('Cast', [result.value], { to: onnxCodeOf(mutated.dtype) }, { rank: result.rank, dtype: mutated.dtype });
  const levels: Array<{ old: TensorValue; updated: TensorValue; step?: ViewStep }> = [{ old: mutated, updated: first }];
  let current: TensorValue = mutated;
  let updated = first;
  for (let provenance = PROVENANCE.get(current.value); provenance; provenance = PROVENANCE.get(current.value)) {
    const { base, step } = provenance;
    if (UNTRACKED_VIEWS.has(base.value)) ctx.fail(inPlaceRefusal(base)!);
    levels[levels.length - 1]!.step = step;
    updated = writeInto(ctx, base, step, updated);
    levels.push({ old: base, updated });
    current = base;
  }
  // The new values are views of each other as the old ones were, so a later write through one reaches the base.
  for (let i = 0; i < levels.length - 1; i++) {
    const { updated: view, step } = levels[i]!;
    let j = i + 1;
    while (j < levels.length && levels[j]!.updated.value === view.value) j++; // a whole-dim slice is its base
    if (j < levels.length && step && !PROVENANCE.has(view.value)) {
      PROVENANCE.set(view.value, { base: levels[j]!.updated, step });
      VIEWS_OF.set(levels[j]!.updated.value, [...(VIEWS_OF.get(levels[j]!.updated.value) ?? []), view.value]);
    }
  }
  for (const [name, bound] of env) {
    if (bound.kind !== 'tensor') continue;
    const level = levels.find(({ old }) => old.value === bound.value);
    if (level) env.set(name, level.updated);
  }
}
