import { Tensor, type Diagnostic, type Model, type Node } from '@modelpass/ir';
import * as ops from '@modelpass/ops';
import { intsOf, shapeOf } from './constants.js';
import { normalizeAxis } from './graph-walk.js';

/** The dims a Shape node reports (its start/end window), as far as the input's type knows them. */
export function shapeNodeDims(node: Node): (number | string | null)[] | undefined {
  const shape = shapeOf(node.inputs[0]);
  if (!shape) return undefined;
  const rank = shape.length;
  const start = clampIndex(node.optionalAttr('start', 'int') ?? 0, rank);
  const end = clampIndex(node.optionalAttr('end', 'int') ?? rank, rank);
  return shape.slice(start, Math.max(start, end));
}

/** A possibly negative index into `length` items, clamped to [0, length] (Shape's start/end, Slice's bounds). */
function clampIndex(index: number, length: number): number {
  return Math.min(Math.max(index < 0 ? index + length : index, 0), length);
}

/**
 * An int64 tensor of dims: safe integers go in as numbers (the ir writes their two's-complement words without a
 * BigInt each: the same bytes), anything else as BigInts, which refuse a dim that is not an integer as before.
 */
function int64Tensor(shape: readonly number[], dims: readonly number[]): Tensor {
  for (let i = 0; i < dims.length; i++) if (!Number.isSafeInteger(dims[i])) return Tensor.fromValues('int64', shape, dims.map((d) => BigInt(d)));
  return Tensor.fromValues('int64', shape, dims);
}

function allStatic(dims: readonly (number | string | null)[]): dims is number[] {
  return dims.every((d) => typeof d === 'number' && d >= 0);
}

/** The constant a shape query node stands for, when the dims it reads are static. */
export function staticShapeQuery(node: Node): Tensor | undefined {
  switch (node.op) {
    case 'onnx.Shape': {
      const dims = shapeNodeDims(node);
      if (!dims || !allStatic(dims)) return undefined;
      return int64Tensor([dims.length], dims);
    }
    case 'onnx.Size': {
      const shape = shapeOf(node.inputs[0]);
      if (!shape || !allStatic(shape)) return undefined;
      return Tensor.scalar('int64', BigInt(shape.reduce((n, d) => n * d, 1)));
    }
    case 'onnx.Gather':
      return gatherOfShape(node);
    case 'onnx.Slice':
      return sliceOfShape(node);
    default:
      return undefined;
  }
}

/** Gather(Shape(x), indices) where the gathered dims are static even if others are not. */
function gatherOfShape(node: Node): Tensor | undefined {
  const shapeNode = node.inputs[0]?.producer;
  if (!shapeNode || shapeNode.op !== 'onnx.Shape') return undefined;
  if ((node.optionalAttr('axis', 'int') ?? 0) !== 0) return undefined;
  const dims = shapeNodeDims(shapeNode);
  const indicesValue = node.inputs[1];
  const indices = intsOf(indicesValue);
  const indicesShape = shapeOf(indicesValue);
  if (!dims || !indices || !indicesShape) return undefined;
  const picked: number[] = [];
  for (const index of indices) {
    const axis = normalizeAxis(index, dims.length);
    if (axis === undefined) return undefined;
    const dim = dims[axis];
    if (typeof dim !== 'number') return undefined;
    picked.push(dim);
  }
  return int64Tensor(indicesShape as number[], picked);
}

/** Slice(Shape(x), starts, ends[, axes=0, steps]) where the selected dims are static. */
function sliceOfShape(node: Node): Tensor | undefined {
  const shapeNode = node.inputs[0]?.producer;
  if (!shapeNode || shapeNode.op !== 'onnx.Shape') return undefined;
  const dims = shapeNodeDims(shapeNode);
  const starts = intsOf(node.inputs[1]);
  const ends = intsOf(node.inputs[2]);
  if (!dims || !starts || !ends || starts.length !== 1 || ends.length !== 1) return undefined;
  const axes = node.inputs[3] ? intsOf(node.inputs[3]) : [0];
  const steps = node.inputs[4] ? intsOf(node.inputs[4]) : [1];
  if (!axes || !steps || (axes[0] !== 0 && axes[0] !== -1) || steps[0] !== 1) return undefined;
  const n = dims.length;
  const start = clampIndex(starts[0]!, n);
  const selected = dims.slice(start, Math.max(start, clampIndex(ends[0]!, n)));
  if (!allStatic(selected)) return undefined;
  return int64Tensor([selected.length], selected);
}

type InferShapes = (model: Model, ...rest: unknown[]) => unknown;

/**
 * Runs `inferShapes` like `inferShapesIfAvailable` and returns the main graph's refusals it reported (an op whose
 * inputs no output shape exists for: errors with an `ops/…` code, located at the node); none when inference is
 * unavailable or failed.
 */
export function inferShapesWithRefusals(model: Model, debug: (message: string) => void): Diagnostic[] {
  const infer = (ops as unknown as { inferShapes?: InferShapes }).inferShapes;
  if (typeof infer !== 'function') return [];
  const refusals = (result: unknown) => ((result as { diagnostics?: Diagnostic[] } | undefined)?.diagnostics ?? []).filter((d) => d.severity === 'error' && d.location?.node !== undefined);
  try {
    const found = refusals(infer(model));
    if (found.length === 0) return found;
    // A refusal may rest on an intermediate's stale declared type (a Flatten output declared [2,1,1] that computes
    // [2,15]; ONNX Runtime merges such declarations leniently and runs the model): inferred again with the
    // intermediates' declarations refreshed, only refusals of the computed types remain.
    debug(`shape inference refuses ${found.length} node(s); inferring again with intermediate types refreshed`);
    return refusals(infer(model, { mode: 'refresh' }));
  } catch (error) {
    debug(`shape inference failed, continuing with the types the model declares: ${(error as Error).message}`);
    return [];
  }
}

/** Runs `inferShapes` from `@modelpass/ops` when that package provides it; false when it does not. */
export function inferShapesIfAvailable(model: Model, debug: (message: string) => void): boolean {
  const infer = (ops as unknown as { inferShapes?: InferShapes }).inferShapes;
  if (typeof infer !== 'function') return false;
  try {
    infer(model);
    return true;
  } catch (error) {
    debug(`shape inference failed, continuing with the types the model declares: ${(error as Error).message}`);
    return false;
  }
}
