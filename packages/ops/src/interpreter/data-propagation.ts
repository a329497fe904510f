/**
 * Data propagation rules for `inferShapes`: how the known element values of scalars and 1-D
 * integer tensors (shapes, sizes, indices) flow through the ops that compute shapes. A rule sees the
 * inputs' values (numbers, symbolic dim names or unknown) and gives the outputs' values; symbolic
 * values only survive operations that keep them exact (x + 0, x * 1, x / 1, selection, joining).
 * Fully constant inputs are evaluated by the reference kernels instead (constant-evaluation.ts).
 */
import type { Dim, Node, Type } from '@modelpass/ir';
import { shapeSliceBounds } from '../nn/shape-ops.js';
import { sliceRange } from '../nn/slice-ops.js';
import { dimProduct, shapeOfType } from '../util/inference.js';
import type { DimValues } from './symbolic-values.js';

/** What a propagation rule sees of a node. */
export interface PropagationContext {
  readonly node: Node;
  readonly opset: number | undefined;
  /** Values of input `index` (constant or propagated); undefined when unknown or omitted. */
  inputValues(index: number): DimValues | undefined;
  inputType(index: number): Type | undefined;
}

/** Gives the values of a node's outputs (undefined entries: not known). */
export type PropagationRule = (context: PropagationContext) => readonly (DimValues | undefined)[];

const vector = (values: readonly Dim[]): DimValues => ({ scalar: false, values });
const scalar = (value: Dim): DimValues => ({ scalar: true, values: [value] });

/** Numbers of input `index` when every value is known. */
function knownInts(context: PropagationContext, index: number): number[] | undefined {
  const data = context.inputValues(index);
  return data && data.values.every((v) => typeof v === 'number') ? (data.values as number[]) : undefined;
}

function shapeRule(context: PropagationContext): (DimValues | undefined)[] {
  const shape = shapeOfType(context.inputType(0));
  if (!shape) return [undefined];
  const [start, end] = shapeSliceBounds(shape.length, context.node.attr('start', 'int', 0), context.node.optionalAttr('end', 'int'));
  return [vector(shape.slice(start, Math.max(start, end)))];
}

function sizeRule(context: PropagationContext): (DimValues | undefined)[] {
  const shape = shapeOfType(context.inputType(0));
  if (!shape) return [undefined];
  const symbolic = shape.filter((d) => d !== 1);
  return [scalar(symbolic.length === 1 ? symbolic[0]! : dimProduct(shape))];
}

function passThrough(context: PropagationContext): (DimValues | undefined)[] {
  return [context.inputValues(0)];
}

function gatherRule(context: PropagationContext): (DimValues | undefined)[] {
  const data = context.inputValues(0);
  const indices = context.inputValues(1);
  if (!data || data.scalar || !indices || context.node.attr('axis', 'int', 0) !== 0) return [undefined];
  const length = data.values.length;
  const picked: Dim[] = [];
  for (const index of indices.values) {
    if (typeof index !== 'number' || index < -length || index >= length) return [undefined];
    picked.push(data.values[index < 0 ? index + length : index]!);
  }
  return [indices.scalar ? scalar(picked[0]!) : vector(picked)];
}

function sliceRule(context: PropagationContext): (DimValues | undefined)[] {
  const data = context.inputValues(0);
  if (!data || data.scalar) return [undefined];
  const { node } = context;
  const fromInputs = node.inputs.length > 1;
  const read = (index: number, attr: string): number[] | undefined =>
    fromInputs ? (node.inputs[index] ? knownInts(context, index) : undefined) : node.optionalAttr(attr, 'ints')?.slice();
  const starts = read(1, 'starts');
  const ends = read(2, 'ends');
  const axes = read(3, 'axes') ?? [0];
  const steps = fromInputs && node.inputs[4] ? knownInts(context, 4) : [1];
  if (!starts || !ends || !steps || starts.length !== 1 || ends.length !== 1 || axes.length !== 1 || steps.length !== 1) return [undefined];
  if (axes[0] !== 0 && axes[0] !== -1) return [undefined];
  const step = steps[0]!;
  if (step === 0) return [undefined];
  const { start, count } = sliceRange(data.values.length, starts[0]!, ends[0]!, step);
  return [vector(Array.from({ length: count }, (_, i) => data.values[start + i * step]!))];
}

function concatRule(context: PropagationContext): (DimValues | undefined)[] {
  const axis = context.node.attr('axis', 'int', 0);
  if (axis !== 0 && axis !== -1) return [undefined];
  const joined: Dim[] = [];
  for (let i = 0; i < context.node.inputs.length; i++) {
    const data = context.inputValues(i);
    if (data?.scalar) return [undefined];
    if (data) joined.push(...data.values);
    else {
      // No value known (e.g. batch·windows), but a known length: that many unknown entries, so the others still count.
      const length = shapeOfType(context.inputType(i));
      if (length?.length !== 1 || typeof length[0] !== 'number') return [undefined];
      for (let k = 0; k < length[0]; k++) joined.push(null);
    }
  }
  return [vector(joined)];
}

/** Axes from input 1 (opset 13+) or the `axes` attribute. */
function axesOf(context: PropagationContext): number[] | undefined {
  return context.node.inputs[1] ? knownInts(context, 1) : context.node.optionalAttr('axes', 'ints')?.slice();
}

function unsqueezeRule(context: PropagationContext): (DimValues | undefined)[] {
  const data = context.inputValues(0);
  const axes = axesOf(context);
  if (!data?.scalar || !axes || axes.length !== 1 || (axes[0] !== 0 && axes[0] !== -1)) return [undefined];
  return [vector(data.values)];
}

function squeezeRule(context: PropagationContext): (DimValues | undefined)[] {
  const data = context.inputValues(0);
  const axes = axesOf(context) ?? [0];
  if (!data || data.scalar || data.values.length !== 1 || axes.length !== 1 || (axes[0] !== 0 && axes[0] !== -1)) return [undefined];
  return [scalar(data.values[0]!)];
}

function reshapeRule(context: PropagationContext): (DimValues | undefined)[] {
  const data = context.inputValues(0);
  const target = context.node.inputs[1] ? knownInts(context, 1) : context.node.optionalAttr('shape', 'ints')?.slice();
  if (!data || !target) return [undefined];
  if (target.length === 0) return [data.values.length === 1 ? scalar(data.values[0]!) : undefined];
  if (target.length === 1 && (target[0] === -1 || target[0] === data.values.length || (target[0] === 0 && !data.scalar))) return [vector(data.values)];
  return [undefined];
}

type Arithmetic = (a: number, b: number) => Dim;

/** Elementwise binary arithmetic with broadcasting of scalars and 1-element vectors. */
function binaryRule(compute: Arithmetic, symbolic: (a: Dim, b: Dim) => Dim): PropagationRule {
  return (context) => {
    if (context.node.inputs.length !== 2) return [undefined];
    const a = context.inputValues(0);
    const b = context.inputValues(1);
    if (!a || !b) return [undefined];
    const length = Math.max(a.values.length, b.values.length);
    if ((a.values.length !== length && a.values.length !== 1) || (b.values.length !== length && b.values.length !== 1)) return [undefined];
    const values: Dim[] = [];
    for (let i = 0; i < length; i++) {
      const x = a.values[a.values.length === 1 ? 0 : i]!;
      const y = b.values[b.values.length === 1 ? 0 : i]!;
      values.push(typeof x === 'number' && typeof y === 'number' ? compute(x, y) : symbolic(x, y));
    }
    return [{ scalar: a.scalar && b.scalar, values }];
  };
}

const integerDivide = (a: number, b: number): Dim => (b === 0 ? null : Math.trunc(a / b));

/** Symbolic identities: x + 0, x - 0, x * 1, x / 1 stay x; x * 0 is 0. Anything else is unknown. */
const addSymbolic = (x: Dim, y: Dim): Dim => (y === 0 ? x : x === 0 ? y : null);
const subSymbolic = (x: Dim, y: Dim): Dim => (y === 0 ? x : x !== null && x === y ? 0 : null);
const mulSymbolic = (x: Dim, y: Dim): Dim => (y === 1 ? x : x === 1 ? y : x === 0 || y === 0 ? 0 : null);
const divSymbolic = (x: Dim, y: Dim): Dim => (y === 1 ? x : x !== null && x === y ? 1 : null);
const extremumSymbolic = (x: Dim, y: Dim): Dim => (x === y ? x : null);

/** The rules by op. */
export const PROPAGATION_RULES: ReadonlyMap<string, PropagationRule> = new Map<string, PropagationRule>([
  ['onnx.Shape', shapeRule],
  ['onnx.Size', sizeRule],
  ['onnx.Identity', passThrough],
  ['onnx.Cast', passThrough],
  ['onnx.Gather', gatherRule],
  ['onnx.Slice', sliceRule],
  ['onnx.Concat', concatRule],
  ['onnx.Unsqueeze', unsqueezeRule],
  ['onnx.Squeeze', squeezeRule],
  ['onnx.Reshape', reshapeRule],
  ['onnx.Add', binaryRule((a, b) => a + b, addSymbolic)],
  ['onnx.Sub', binaryRule((a, b) => a - b, subSymbolic)],
  ['onnx.Mul', binaryRule((a, b) => a * b, mulSymbolic)],
  ['onnx.Div', binaryRule(integerDivide, divSymbolic)],
  ['onnx.Max', binaryRule(Math.max, extremumSymbolic)],
  ['onnx.Min', binaryRule(Math.min, extremumSymbolic)],
]);
