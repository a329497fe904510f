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
  /**
   * Flat offset, in the other tensor, of the box's first position `lo` (all axes): the input read
   * for output `lo` (convolution), the output written by input `lo` (transposed convolution).
   */
  readonly start: number;
}

/** The layout both row sweeps share: strides and spatial sizes of X and Y, and every tap's box. */
interface SweepGeometry {
  readonly inStrides: number[];
  readonly outStrides: number[];
  readonly inSpatial: number;
  readonly outSpatial: number;
  readonly kernelSize: number;
  /** Per kernel position; undefined where the tap's box is empty. */
  readonly taps: (Tap | undefined)[];
}

/**
 * Sweep geometry for boxes given per axis by `range` (over output positions for a convolution,
 * input positions for a transposed one); each box's `start` is measured with `startOn`'s strides.
 */
function sweepGeometry(axes: readonly SweepAxis[], range: (axis: SweepAxis, k: number) => [number, number], startOn: 'input' | 'output'): SweepGeometry {
  const rank = axes.length;
  const inSizes = axes.map((a) => a.input);
  const outSizes = axes.map((a) => a.output);
  const inStrides = stridesOfSizes(inSizes);
  const outStrides = stridesOfSizes(outSizes);
  const startStrides = startOn === 'input' ? inStrides : outStrides;
  const positions = positionsOf(axes);
  const taps = positions.map((pos): Tap | undefined => {
    const lo: number[] = [];
    const hi: number[] = [];
    let start = 0;
    for (let d = 0; d < rank; d++) {
      const [l, h] = range(axes[d]!, pos[d]!);
      if (l >= h) return undefined;
      lo.push(l);
      hi.push(h);
      start += (l * axes[d]!.stride + pos[d]! * axes[d]!.dilation - axes[d]!.padBegin) * startStrides[d]!;
    }
    return { lo, hi, start };
  });
  return {
    inStrides,
    outStrides,
    inSpatial: inSizes.reduce((n, s) => n * s, 1),
    outSpatial: outSizes.reduce((n, s) => n * s, 1),
    kernelSize: positions.length,
    taps,
  };
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
  const kernelSize = op.axes.reduce((n, a) => n * a.kernel, 1);
  const columns = (op.inChannels / op.group) * kernelSize;
  if (op.xZero === 0 && !op.wZero && columns >= 4 && op.outChannels / op.group >= 4 && allFinite(op.w)) return matrixConvolutionSums(op);
  if (op.xZero === 0 && !op.wZero && op.axes.length === 2) return directConvolutionSums2d(op);
  return rowConvolutionSums(op);
}

function allFinite(values: ArrayLike<number>): boolean {
  for (let i = 0; i < values.length; i++) if (!Number.isFinite(values[i]!)) return false;
  return true;
}

/** Positions per column tile: keeps a tile of gathered inputs around 256 KiB. */
const TILE_ELEMENTS = 32768;

/**
 * Convolution as a matrix product per group: the inputs under each output position's window are
 * gathered into one row (`[cc, k]` in weight order, 0 for taps in the padding), a tile of rows at
 * a time, and each output is the dot product of its row with the output channel's weights,
 * accumulated from +0 in the same order as `rowConvolutionSums`. A padding tap adds `0 * w`, which
 * is ±0 for a finite weight and leaves the sum unchanged (a running sum from +0 is never -0), so the
 * results are the same bits; weights that are not all finite take the row loops instead.
 */
function matrixConvolutionSums(op: ConvLoopOperands): Float64Array {
  const { x, batch, inChannels, outChannels, group, axes } = op;
  const rank = axes.length;
  const inSizes = axes.map((a) => a.input);
  const inStrides = stridesOfSizes(inSizes);
  const inSpatial = inSizes.reduce((n, s) => n * s, 1);
  const outSpatial = axes.reduce((n, a) => n * a.output, 1);
  const positions = positionsOf(axes);
  const kernelSize = positions.length;
  const cPerGroup = inChannels / group;
  const mPerGroup = outChannels / group;
  const columns = cPerGroup * kernelSize;
  const w = Float64Array.from(op.w);
  const out = new Float64Array(batch * outChannels * outSpatial);
  const tile = Math.max(2, Math.min(outSpatial, Math.floor(TILE_ELEMENTS / columns)));
  const rows = new Float64Array(tile * columns);
  // Per kernel position and axis: the input coordinate is o * stride + shift.
  const shifts = positions.map((pos) => pos.map((k, d) => k * axes[d]!.dilation - axes[d]!.padBegin));
  const pointwise = kernelSize === 1 && axes.every((a) => a.stride === 1 && a.padBegin === 0 && a.input === a.output);
  const outIndex = new Array<number>(rank).fill(0);
  for (let b = 0; b < batch; b++) {
    for (let g = 0; g < group; g++) {
      const xGroup = (b * inChannels + g * cPerGroup) * inSpatial;
      for (let p0 = 0; p0 < outSpatial; p0 += tile) {
        const count = Math.min(tile, outSpatial - p0);
        if (pointwise) {
          for (let cc = 0; cc < cPerGroup; cc++) {
            const from = xGroup + cc * inSpatial + p0;
            for (let p = 0; p < count; p++) rows[p * columns + cc] = x[from + p]!;
          }
        } else {
          let rest = p0;
          for (let d = rank - 1; d >= 0; d--) {
            outIndex[d] = rest % axes[d]!.output;
            rest = Math.floor(rest / axes[d]!.output);
          }
          for (let p = 0; p < count; p++) {
            const row = p * columns;
            for (let k = 0; k < kernelSize; k++) {
              const shift = shifts[k]!;
              let offset = 0;
              let inside = true;
              for (let d = 0; d < rank; d++) {
                const at = outIndex[d]! * axes[d]!.stride + shift[d]!;
                if (at < 0 || at >= inSizes[d]!) {
                  inside = false;
                  break;
                }
                offset += at * inStrides[d]!;
              }
              for (let cc = 0, column = row + k; cc < cPerGroup; cc++, column += kernelSize) {
                rows[column] = inside ? x[xGroup + cc * inSpatial + offset]! : 0;
              }
            }
            for (let d = rank - 1; d >= 0; d--) {
              if (++outIndex[d]! < axes[d]!.output) break;
              outIndex[d] = 0;
            }
          }
        }
        dotProducts(rows, count, columns, w, g * mPerGroup, mPerGroup, out, (b * outChannels + g * mPerGroup) * outSpatial + p0, outSpatial, 1);
      }
    }
  }
  return out;
}

/**
 * `out[outBase + m * outStride + p * pStride] = sum_j rows[p * columns + j] * w[(wRow + m) * columns + j]`
 * (j ascending, from +0) for `p < count`, `m < mCount`; four weight rows by two positions at a time.
 * Shared by the convolutions and the matrix products.
 */
export function dotProducts(
  rows: Float64Array,
  count: number,
  columns: number,
  w: Float64Array,
  wRow: number,
  mCount: number,
  out: Float64Array,
  outBase: number,
  outStride: number,
  pStride: number,
): void {
  let m = 0;
  for (; m + 4 <= mCount; m += 4) {
    const w0 = (wRow + m) * columns;
    const w1 = w0 + columns;
    const w2 = w1 + columns;
    const w3 = w2 + columns;
    const o0 = outBase + m * outStride;
    let p = 0;
    for (; p + 2 <= count; p += 2) {
      const r0 = p * columns;
      const r1 = r0 + columns;
      let s00 = 0, s01 = 0, s10 = 0, s11 = 0, s20 = 0, s21 = 0, s30 = 0, s31 = 0;
      for (let j = 0; j < columns; j++) {
        const a0 = rows[r0 + j]!;
        const a1 = rows[r1 + j]!;
        const b0 = w[w0 + j]!;
        const b1 = w[w1 + j]!;
        const b2 = w[w2 + j]!;
        const b3 = w[w3 + j]!;
        s00 += a0 * b0;
        s01 += a1 * b0;
        s10 += a0 * b1;
        s11 += a1 * b1;
        s20 += a0 * b2;
        s21 += a1 * b2;
        s30 += a0 * b3;
        s31 += a1 * b3;
      }
      const q = o0 + p * pStride;
      out[q] = s00;
      out[q + pStride] = s01;
      out[q + outStride] = s10;
      out[q + outStride + pStride] = s11;
      out[q + 2 * outStride] = s20;
      out[q + 2 * outStride + pStride] = s21;
      out[q + 3 * outStride] = s30;
      out[q + 3 * outStride + pStride] = s31;
    }
    for (; p < count; p++) {
      const r0 = p * columns;
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      for (let j = 0; j < columns; j++) {
        const a0 = rows[r0 + j]!;
        s0 += a0 * w[w0 + j]!;
        s1 += a0 * w[w1 + j]!;
        s2 += a0 * w[w2 + j]!;
        s3 += a0 * w[w3 + j]!;
      }
      const q = o0 + p * pStride;
      out[q] = s0;
      out[q + outStride] = s1;
      out[q + 2 * outStride] = s2;
      out[q + 3 * outStride] = s3;
    }
  }
  for (; m < mCount; m++) {
    const w0 = (wRow + m) * columns;
    const o0 = outBase + m * outStride;
    for (let p = 0; p < count; p++) {
      const r0 = p * columns;
      let s = 0;
      for (let j = 0; j < columns; j++) s += rows[r0 + j]! * w[w0 + j]!;
      out[o0 + p * pStride] = s;
    }
  }
}

/**
 * 2-D convolution sums one output at a time (depthwise and other narrow convolutions): the sum over
 * input channels, then kernel rows and columns, skipping taps in the padding, from +0; the kernel
 * range is clipped per output row (rows) and only near the edges per output (columns).
 */
function directConvolutionSums2d(op: ConvLoopOperands): Float64Array {
  const { x, batch, inChannels, outChannels, group } = op;
  const [ay, ax] = op.axes as [SweepAxis, SweepAxis];
  const [inH, inW, outH, outW] = [ay.input, ax.input, ay.output, ax.output];
  const [kh, kw, sy, sx, dy, dx, py, px] = [ay.kernel, ax.kernel, ay.stride, ax.stride, ay.dilation, ax.dilation, ay.padBegin, ax.padBegin];
  const kernelSize = kh * kw;
  const cPerGroup = inChannels / group;
  const mPerGroup = outChannels / group;
  const inSpatial = inH * inW;
  const outSpatial = outH * outW;
  const out = new Float64Array(batch * outChannels * outSpatial);
  const weights = new Float64Array(cPerGroup * kernelSize);
  // Output columns whose whole kernel row lies inside the input.
  const interiorLo = Math.min(outW, Math.ceil(px / sx));
  const interiorHi = Math.max(interiorLo, Math.min(outW, Math.floor((inW - 1 - (kw - 1) * dx + px) / sx) + 1));
  for (let b = 0; b < batch; b++) {
    for (let oc = 0; oc < outChannels; oc++) {
      const g = Math.floor(oc / mPerGroup);
      const xGroup = (b * inChannels + g * cPerGroup) * inSpatial;
      for (let i = 0; i < weights.length; i++) weights[i] = op.w[oc * weights.length + i]!;
      const outBase = (b * outChannels + oc) * outSpatial;
      for (let oy = 0; oy < outH; oy++) {
        const iy0 = oy * sy - py;
        const kyLo = iy0 >= 0 ? 0 : Math.ceil(-iy0 / dy);
        const kyHi = Math.min(kh, Math.floor((inH - 1 - iy0) / dy) + 1);
        for (let ox = 0; ox < outW; ox++) {
          const ix0 = ox * sx - px;
          let kxLo = 0;
          let kxHi = kw;
          if (ox < interiorLo || ox >= interiorHi) {
            kxLo = ix0 >= 0 ? 0 : Math.ceil(-ix0 / dx);
            kxHi = Math.min(kw, Math.floor((inW - 1 - ix0) / dx) + 1);
          }
          let sum = 0;
          for (let cc = 0; cc < cPerGroup; cc++) {
            const xChannel = xGroup + cc * inSpatial + ix0;
            const wChannel = cc * kernelSize;
            for (let ky = kyLo; ky < kyHi; ky++) {
              const row = xChannel + (iy0 + ky * dy) * inW;
              const wRow = wChannel + ky * kw;
              if (kxHi - kxLo === 3) {
                const at = row + kxLo * dx;
                const wAt = wRow + kxLo;
                sum += x[at]! * weights[wAt]!;
                sum += x[at + dx]! * weights[wAt + 1]!;
                sum += x[at + 2 * dx]! * weights[wAt + 2]!;
              } else if (kxHi - kxLo === 5) {
                const at = row + kxLo * dx;
                const wAt = wRow + kxLo;
                sum += x[at]! * weights[wAt]!;
                sum += x[at + dx]! * weights[wAt + 1]!;
                sum += x[at + 2 * dx]! * weights[wAt + 2]!;
                sum += x[at + 3 * dx]! * weights[wAt + 3]!;
                sum += x[at + 4 * dx]! * weights[wAt + 4]!;
              } else {
                for (let kx = kxLo; kx < kxHi; kx++) sum += x[row + kx * dx]! * weights[wRow + kx]!;
              }
            }
          }
          out[outBase + oy * outW + ox] = sum;
        }
      }
    }
  }
  return out;
}

/** Convolution sums by whole-row updates (any operands; zero points included). */
function rowConvolutionSums(op: ConvLoopOperands): Float64Array {
  const { x, w, batch, inChannels, outChannels, group, axes, xZero } = op;
  const rank = axes.length;
  const { inStrides, outStrides, inSpatial, outSpatial, kernelSize, taps } = sweepGeometry(axes, convRange, 'input');
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
          let inRow = xBase + tap.start;
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
  const { inStrides, outStrides, inSpatial, outSpatial, kernelSize, taps } = sweepGeometry(axes, transposeRange, 'output');
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
          let outRow = accBase + tap.start;
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
