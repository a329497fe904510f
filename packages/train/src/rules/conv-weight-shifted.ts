/**
 * The weight gradient of a 2-D, ungrouped Conv as one MatMul over shifted windows (im2col in NHWC):
 * dW[o, c, ky, kx] = Σ_{n,y,x} dY[n, o, y, x] · Xpad[n, c, y·sy + ky·dy, x·sx + kx·dx].
 * The input goes to NHWC once and is padded; each kernel tap (ky, kx) is a strided Slice of it
 * ([N, Ho, Wo, C]); the taps are concatenated on the channel axis into [N·Ho·Wo, kh·kw·C], and
 * dY as [O, N·Ho·Wo] times that gives [O, kh·kw·C], reordered to [O, C, kh, kw].
 * ONNX Runtime runs this as one large GEMM, where the Conv-as-correlation form (dY as a kernel as
 * large as the image) runs poorly in its im2col Conv.
 */
import type { Value } from '@modelpass/ir';
import type { GradientContext } from '../gradient-context.js';
import type { WindowGeometry } from './window.js';

/** Whether `convWeightGradientShifted` applies: 2-D and one group. */
export function shiftedWeightGradientApplies(kernel: readonly number[], group: number): boolean {
  return kernel.length === 2 && group === 1;
}

/** dW `[outChannels, inChannels, kh, kw]` of `Conv(convInput, W)` given dY (`outSpatial`: its static Ho, Wo; `inChannels`: C). */
export function convWeightGradientShifted(ctx: GradientContext, convInput: Value, outputGrad: Value, inChannels: number, outSpatial: readonly number[], geometry: WindowGeometry): Value {
  const [kh, kw] = geometry.kernel as [number, number];
  const [sy, sx] = geometry.strides as [number, number];
  const [dy, dx] = geometry.dilations as [number, number];
  const [top, left, bottom, right] = geometry.pads as [number, number, number, number];
  const [ho, wo] = outSpatial as [number, number];
  let nhwc = ctx.transpose(convInput, [0, 2, 3, 1]);
  if (top || left || bottom || right) nhwc = ctx.op('Pad', [nhwc, ctx.ints([0, top, left, 0, 0, bottom, right, 0])]);
  const taps: Value[] = [];
  for (let ky = 0; ky < kh; ky++) {
    for (let kx = 0; kx < kw; kx++) {
      const starts = [ky * dy, kx * dx];
      const ends = [starts[0]! + (ho - 1) * sy + 1, starts[1]! + (wo - 1) * sx + 1];
      taps.push(ctx.op('Slice', [nhwc, ctx.ints(starts), ctx.ints(ends), ctx.ints([1, 2]), ctx.ints([sy, sx])]));
    }
  }
  const windows = taps.length === 1 ? taps[0]! : ctx.op('Concat', taps, { axis: 3 });
  const columns = ctx.reshape(windows, [-1, kh * kw * inChannels]);
  const outChannels = ctx.reshape(ctx.transpose(outputGrad, [1, 0, 2, 3]), [0, -1]);
  const product = ctx.op('MatMul', [outChannels, columns]);
  return ctx.transpose(ctx.reshape(product, [0, kh, kw, -1]), [0, 3, 1, 2]);
}

