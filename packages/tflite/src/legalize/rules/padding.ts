import type { Dim, Node } from '@modelpass/ir';

/** How a window op's ONNX padding maps to TFLite: SAME, VALID, or VALID after an explicit PAD. */
export type WindowPadding = { kind: 'SAME' } | { kind: 'VALID' } | { kind: 'explicit'; begins: number[]; ends: number[] };

export interface WindowGeometry {
  readonly kernel: readonly number[];
  readonly strides: readonly number[];
  readonly dilations: readonly number[];
}

export function windowGeometry(node: Node, kernel: readonly number[]): WindowGeometry {
  const spatial = kernel.length;
  return {
    kernel,
    strides: node.optionalAttr('strides', 'ints') ?? new Array<number>(spatial).fill(1),
    dilations: node.optionalAttr('dilations', 'ints') ?? new Array<number>(spatial).fill(1),
  };
}

/** TFLite's (and ONNX SAME_UPPER's) padding before and after one spatial dim. */
function samePadding(size: number, kernel: number, stride: number, dilation: number): [number, number] {
  const effective = (kernel - 1) * dilation + 1;
  const out = Math.ceil(size / stride);
  const total = Math.max((out - 1) * stride + effective - size, 0);
  return [Math.floor(total / 2), total - Math.floor(total / 2)];
}

/**
 * Resolves `auto_pad`/`pads` for `spatialDims` (the input's H, W…). `undefined` with a reason when
 * it needs static dims it does not have. `ceilMode` adds the end padding ONNX's ceil_mode implies.
 */
export function resolvePadding(node: Node, spatialDims: readonly Dim[], geometry: WindowGeometry, ceilMode = false): WindowPadding | string {
  const spatial = geometry.kernel.length;
  const autoPad = node.optionalAttr('auto_pad', 'string') ?? 'NOTSET';
  if (autoPad === 'VALID') return ceilMode ? ceilPadding(spatialDims, geometry, new Array(spatial).fill(0), new Array(spatial).fill(0)) : { kind: 'VALID' };
  const staticDims = spatialDims.every((d) => typeof d === 'number') ? (spatialDims as number[]) : undefined;
  if (autoPad === 'SAME_UPPER' && !ceilMode) return { kind: 'SAME' };
  let begins: number[];
  let ends: number[];
  if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
    if (!staticDims) return `auto_pad=${autoPad} needs static spatial dims`;
    const pairs = staticDims.map((size, i) => samePadding(size, geometry.kernel[i]!, geometry.strides[i]!, geometry.dilations[i]!));
    begins = pairs.map(([b, e]) => (autoPad === 'SAME_LOWER' ? e : b));
    ends = pairs.map(([b, e]) => (autoPad === 'SAME_LOWER' ? b : e));
  } else {
    const pads = node.optionalAttr('pads', 'ints') ?? new Array<number>(spatial * 2).fill(0);
    begins = pads.slice(0, spatial);
    ends = pads.slice(spatial);
  }
  if (ceilMode) return ceilPadding(spatialDims, geometry, begins, ends);
  if (staticDims) ends = ends.map((end, i) => end + overhang(staticDims[i]! + begins[i]! + end, geometry, i));
  if (begins.every((p) => p === 0) && ends.every((p) => p === 0)) return { kind: 'VALID' };
  if (staticDims) {
    const same = staticDims.map((size, i) => samePadding(size, geometry.kernel[i]!, geometry.strides[i]!, geometry.dilations[i]!));
    if (same.every(([b, e], i) => b === begins[i] && e === ends[i])) return { kind: 'SAME' };
  }
  return { kind: 'explicit', begins, ends };
}

/**
 * A window larger than its padded input (by less than a stride) still gives one output in ONNX
 * (C++ integer division truncates toward zero), over the part of the input it covers; TFLite's
 * VALID would give none. The end padding that makes the window fit.
 */
function overhang(padded: number, geometry: WindowGeometry, axis: number): number {
  const effective = (geometry.kernel[axis]! - 1) * geometry.dilations[axis]! + 1;
  return padded < effective && Math.trunc((padded - effective) / geometry.strides[axis]!) === 0 ? effective - padded : 0;
}

/** ceil_mode: the extra end padding that makes floor-division windows give ceil's output size. */
function ceilPadding(spatialDims: readonly Dim[], geometry: WindowGeometry, begins: number[], ends: number[]): WindowPadding | string {
  if (!spatialDims.every((d) => typeof d === 'number')) return 'ceil_mode=1 needs static spatial dims';
  const extra = (spatialDims as number[]).map((size, i) => {
    const effective = (geometry.kernel[i]! - 1) * geometry.dilations[i]! + 1;
    const padded = size + begins[i]! + ends[i]!;
    const floorOut = Math.floor((padded - effective) / geometry.strides[i]!) + 1;
    let ceilOut = Math.ceil((padded - effective) / geometry.strides[i]!) + 1;
    // ONNX drops a last window that would start in the end padding.
    if ((ceilOut - 1) * geometry.strides[i]! >= size + begins[i]!) ceilOut--;
    return ceilOut > floorOut ? (ceilOut - 1) * geometry.strides[i]! + effective - padded : 0;
  });
  const allEnds = ends.map((e, i) => e + extra[i]!);
  if (begins.every((p) => p === 0) && allEnds.every((p) => p === 0)) return { kind: 'VALID' };
  return { kind: 'explicit', begins, ends: allEnds };
}
