/**
 * The inner loops of Conv and ConvTranspose, arranged for speed without changing a result bit.
 *
 * Conv: every output element is the float64 sum, from +0, of `(x - xZero) * (w - wZero)` over input
 * channels, then kernel positions in row-major order, skipping taps that fall in the padding. The
 * loops here keep exactly that order per output element but run it as whole-row updates: for one
 * output channel, one input channel and one kernel position, the output positions whose tap is
 * inside the input form a box (a range per spatial axis), and the innermost range is one contiguous
 * run of the output row. So the work is `acc[o] += x[i] * w` over rows, without per-tap index lists.
 *
 * ConvTranspose: every output element is the float64 sum of `x[c, i] * w[c, m, k]` in the order of
 * the input position `i` (row-major), then the input channel `c`. For a fixed output position each
 * `i` pairs with one kernel position `k`, and `i` ascending is `k` descending, so the loops run `k`
 * descending, then `c`, then the input positions (a scatter along rows with the stride as step).
 */

/** Per spatial axis: geometry of a window sweep (input size, output size, stride, dilation, begin pad). */
export interface SweepAxis {
  readonly input: number;
  readonly output: number;
  readonly stride: number;
  readonly dilation: number;
  readonly padBegin: number;
  readonly kernel: number;
}

/** Output range `[lo, hi)` of one axis whose tap at kernel offset `k` lands inside the input. */
function convRange(axis: SweepAxis, k: number): [number, number] {
  const shift = k * axis.dilation - axis.padBegin; // input = o * stride + shift
  const lo = shift >= 0 ? 0 : Math.ceil(-shift / axis.stride);
  const hi = Math.min(axis.output, Math.floor((axis.input - 1 - shift) / axis.stride) + 1);
  return [lo, Math.max(lo, hi)];
}

/** Row-major flat kernel positions, each as per-axis offsets. */
function positionsOf(axes: readonly SweepAxis[]): number[][] {
  const total = axes.reduce((n, a) => n * a.kernel, 1);
  const positions: number[][] = [];
  const index = new Array<number>(axes.length).fill(0);
  for (let k = 0; k < total; k++) {
    positions.push([...index]);
    for (let d = axes.length - 1; d >= 0; d--) {
      if (++index[d]! < axes[d]!.kernel) break;
      index[d] = 0;
    }
  }
  return positions;
}

function stridesOfSizes(sizes: readonly number[]): number[] {
  const strides = new Array<number>(sizes.length);
  let stride = 1;
  for (let d = sizes.length - 1; d >= 0; d--) {
    strides[d] = stride;
    stride *= sizes[d]!;
  }
  return strides;
}

/** One kernel position's valid output box and the input offset of the box's first output. */
interface Tap {
  readonly lo: number[];
  readonly hi: number[];
  /** Input flat offset of the output position `lo` (all axes). */
  readonly inputStart: number;
}

export interface ConvLoopOperands {
  readonly x: ArrayLike<number>;
  readonly w: ArrayLike<number>;
  readonly batch: number;
  readonly inChannels: number;
  readonly outChannels: number;
  readonly group: number;
  /** Spatial axes (at least one; a 0-d convolution is passed as one axis of size 1). */
  readonly axes: readonly SweepAxis[];
  readonly xZero: number;
  readonly wZero: ((outChannel: number) => number) | undefined;
}

/** Convolution sums (float64), laid out [batch, outChannels, ...output spatial]. */
export function convolutionSums(op: ConvLoopOperands): Float64Array {
  const { x, w, batch, inChannels, outChannels, group, axes, xZero } = op;
  const rank = axes.length;
  const inSizes = axes.map((a) => a.input);
  const outSizes = axes.map((a) => a.output);
  const inStrides = stridesOfSizes(inSizes);
  const outStrides = stridesOfSizes(outSizes);
  const inSpatial = inSizes.reduce((n, s) => n * s, 1);
  const outSpatial = outSizes.reduce((n, s) => n * s, 1);
  const positions = positionsOf(axes);
  const kernelSize = positions.length;
  const taps: (Tap | undefined)[] = positions.map((pos) => {
    const lo: number[] = [];
    const hi: number[] = [];
    let inputStart = 0;
    for (let d = 0; d < rank; d++) {
      const [l, h] = convRange(axes[d]!, pos[d]!);
      if (l >= h) return undefined;
      lo.push(l);
      hi.push(h);
      inputStart += (l * axes[d]!.stride + pos[d]! * axes[d]!.dilation - axes[d]!.padBegin) * inStrides[d]!;
    }
    return { lo, hi, inputStart };
  });
  const last = rank - 1;
  const lastStride = axes[last]!.stride;
  const cPerGroup = inChannels / group;
  const mPerGroup = outChannels / group;
  const out = new Float64Array(batch * outChannels * outSpatial);
  const counter = new Array<number>(rank).fill(0);
  for (let b = 0; b < batch; b++) {
    for (let oc = 0; oc < outChannels; oc++) {
      const g = Math.floor(oc / mPerGroup);
      const wZero = op.wZero ? op.wZero(oc) : 0;
      const accBase = (b * outChannels + oc) * outSpatial;
      for (let cc = 0; cc < cPerGroup; cc++) {
        const xBase = (b * inChannels + g * cPerGroup + cc) * inSpatial;
        const wBase = (oc * cPerGroup + cc) * kernelSize;
        for (let k = 0; k < kernelSize; k++) {
          const tap = taps[k];
          if (!tap) continue;
          const wv = w[wBase + k]! - wZero;
          const runLo = tap.lo[last]!;
          const run = tap.hi[last]! - runLo;
          // Odometer over the outer axes of the tap's box; the last axis is one run per row.
          for (let d = 0; d < last; d++) counter[d] = tap.lo[d]!;
          let inRow = xBase + tap.inputStart;
          let outRow = accBase + runLo;
          for (let d = 0; d < last; d++) outRow += tap.lo[d]! * outStrides[d]!;
          for (;;) {
            if (xZero === 0) {
              for (let i = 0, xi = inRow; i < run; i++, xi += lastStride) out[outRow + i]! += x[xi]! * wv;
            } else {
              for (let i = 0, xi = inRow; i < run; i++, xi += lastStride) out[outRow + i]! += (x[xi]! - xZero) * wv;
            }
            let d = last - 1;
            for (; d >= 0; d--) {
              const axis = axes[d]!;
              inRow += axis.stride * inStrides[d]!;
              outRow += outStrides[d]!;
              if (++counter[d]! < tap.hi[d]!) break;
              const span = counter[d]! - tap.lo[d]!;
              inRow -= span * axis.stride * inStrides[d]!;
              outRow -= span * outStrides[d]!;
              counter[d] = tap.lo[d]!;
            }
            if (d < 0) break;
          }
        }
      }
    }
  }
  return out;
}

export interface ConvTransposeLoopOperands {
  readonly x: ArrayLike<number>;
  readonly w: ArrayLike<number>;
  readonly batch: number;
  readonly inChannels: number;
  readonly outChannels: number;
  readonly group: number;
  /** Per spatial axis: `input` is X's size, `output` Y's, `padBegin` the transposed begin pad. */
  readonly axes: readonly SweepAxis[];
}

/** Input range `[lo, hi)` of one axis whose scatter at kernel offset `k` lands inside the output. */
function transposeRange(axis: SweepAxis, k: number): [number, number] {
  const shift = k * axis.dilation - axis.padBegin; // output = i * stride + shift
  const lo = shift >= 0 ? 0 : Math.ceil(-shift / axis.stride);
  const hi = Math.min(axis.input, Math.floor((axis.output - 1 - shift) / axis.stride) + 1);
  return [lo, Math.max(lo, hi)];
}

/** Transposed-convolution sums (float64), laid out [batch, outChannels, ...output spatial]. */
export function convTransposeSums(op: ConvTransposeLoopOperands): Float64Array {
  const { x, w, batch, inChannels, outChannels, group, axes } = op;
  const rank = axes.length;
  const inSizes = axes.map((a) => a.input);
  const outSizes = axes.map((a) => a.output);
  const inStrides = stridesOfSizes(inSizes);
  const outStrides = stridesOfSizes(outSizes);
  const inSpatial = inSizes.reduce((n, s) => n * s, 1);
  const outSpatial = outSizes.reduce((n, s) => n * s, 1);
  const positions = positionsOf(axes);
  const kernelSize = positions.length;
  const taps: (Tap | undefined)[] = positions.map((pos) => {
    const lo: number[] = [];
    const hi: number[] = [];
    let outputStart = 0;
    for (let d = 0; d < rank; d++) {
      const [l, h] = transposeRange(axes[d]!, pos[d]!);
      if (l >= h) return undefined;
      lo.push(l);
      hi.push(h);
      outputStart += (l * axes[d]!.stride + pos[d]! * axes[d]!.dilation - axes[d]!.padBegin) * outStrides[d]!;
    }
    // `inputStart` holds the output offset here: the scatter target of the box's first input.
    return { lo, hi, inputStart: outputStart };
  });
  const last = rank - 1;
  const lastStride = axes[last]!.stride;
  const cPerGroup = inChannels / group;
  const mPerGroup = outChannels / group;
  const out = new Float64Array(batch * outChannels * outSpatial);
  const counter = new Array<number>(rank).fill(0);
  for (let b = 0; b < batch; b++) {
    for (let oc = 0; oc < outChannels; oc++) {
      const g = Math.floor(oc / mPerGroup);
      const mm = oc - g * mPerGroup;
      const accBase = (b * outChannels + oc) * outSpatial;
      for (let k = kernelSize - 1; k >= 0; k--) {
        const tap = taps[k];
        if (!tap) continue;
        const runLo = tap.lo[last]!;
        const run = tap.hi[last]! - runLo;
        for (let cc = 0; cc < cPerGroup; cc++) {
          const ch = g * cPerGroup + cc;
          const wv = w[(ch * mPerGroup + mm) * kernelSize + k]!;
          for (let d = 0; d < last; d++) counter[d] = tap.lo[d]!;
          let inRow = (b * inChannels + ch) * inSpatial + runLo;
          for (let d = 0; d < last; d++) inRow += tap.lo[d]! * inStrides[d]!;
          let outRow = accBase + tap.inputStart;
          for (;;) {
            for (let i = 0, oi = outRow; i < run; i++, oi += lastStride) out[oi]! += x[inRow + i]! * wv;
            let d = last - 1;
            for (; d >= 0; d--) {
              const axis = axes[d]!;
              inRow += inStrides[d]!;
              outRow += axis.stride * outStrides[d]!;
              if (++counter[d]! < tap.hi[d]!) break;
              const span = counter[d]! - tap.lo[d]!;
              inRow -= span * inStrides[d]!;
              outRow -= span * axis.stride * outStrides[d]!;
              counter[d] = tap.lo[d]!;
            }
            if (d < 0) break;
          }
        }
      }
    }
  }
  return out;
}
