/**
 * MaxPool's gradient for non-overlapping windows (kernel == stride, no padding, no dilation, floor
 * mode): every input element lies in at most one window, so the gradient of each output goes to one
 * input position, the window's first maximum in row-major order (PyTorch's and ONNX Runtime's
 * choice on ties). Instead of a second MaxPool with the Indices output and a ScatterElements (slow
 * kernels in ONNX Runtime), the position is found from the forward output Y:
 * - each window tap t but the last is a strided Slice of X aligned with Y, compared with Equal(x_t, Y);
 * - the offset of the first tap that equals Y within the window: nested Where from the last tap
 *   (the default, since some tap holds the maximum) to the first, on small float constants;
 * - plus the flat index of the window's origin gives MaxPool's Indices (flat over N·C·spatial);
 * - MaxUnpool (float32) or a ScatterElements into zeros (other dtypes: ORT's MaxUnpool is float only)
 *   writes dY there; the floor-mode remainder rows and columns keep their zeros.
 * The result is recorded (`tiledMaxPoolGradientOf`): a Relu whose only reader is the MaxPool masks dY on the
 * pooled tensor instead (relu'(x) at a window's selected element is Y > 0) and scatters that, a quarter of the work
 * for 2×2 windows.
 */
import { Tensor, type Node, type Value } from '@modelpass/ir';
import type { GradientContext } from '../gradient-context.js';
import { scatterAddFlat } from './indexing.js';
import type { WindowGeometry } from './window.js';

/** Whether MaxPool's windows tile the input without overlap or padding (the fast gradient applies). */
export function isTiledMaxPool(node: Node, geometry: WindowGeometry): boolean {
  return geometry.kernel.every((k, i) => k === geometry.strides[i])
    && geometry.pads.every((p) => p === 0)
    && geometry.dilations.every((d) => d === 1)
    && node.attr('ceil_mode', 'int', 0) === 0;
}

/** Row-major multi-indices of a window's taps. */
function windowTaps(kernel: readonly number[]): number[][] {
  let taps: number[][] = [[]];
  for (const k of kernel) taps = taps.flatMap((prefix) => Array.from({ length: k }, (_, i) => [...prefix, i]));
  return taps;
}

/** Flat strides of a shape (row-major). */
function flatStrides(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length).fill(1);
  for (let i = shape.length - 2; i >= 0; i--) strides[i] = strides[i + 1]! * shape[i + 1]!;
  return strides;
}

/**
 * dX of `Y = MaxPool(X)` with tiling windows. `xSpatial`/`ySpatial`: static spatial dims of X and Y
 * (batch and channel dims may be symbolic).
 */
export function tiledMaxPoolGradient(ctx: GradientContext, x: Value, y: Value, dy: Value, kernel: readonly number[], xSpatial: readonly number[], ySpatial: readonly number[]): Value {
  const axes = kernel.map((_, i) => i + 2);
  const taps = windowTaps(kernel);
  const xStrides = flatStrides(xSpatial);
  const offsetOf = (tap: readonly number[]) => tap.reduce((sum, t, i) => sum + t * xStrides[i]!, 0);
  const ends = ySpatial.map((o, i) => o * kernel[i]!);

  // Offset of the first tap equal to Y within its window (float constants: Where on floats is fast in ORT).
  let offset = ctx.scalar(offsetOf(taps.at(-1)!), 'float32');
  for (const tap of taps.slice(0, -1).reverse()) {
    const aligned = ctx.op('Slice', [x, ctx.ints(tap), ctx.ints(ends), ctx.ints(axes), ctx.ints(kernel)]);
    offset = ctx.op('Where', [ctx.op('Equal', [aligned, y]), ctx.scalar(offsetOf(tap), 'float32'), offset]);
  }

  // Flat index of each window's origin: (n·C + c)·|spatial| + Σ o_i·k_i·stride_i, as [N·C, ...ySpatial].
  const origins = windowTaps(ySpatial).map((o) => offsetOf(o.map((v, i) => v * kernel[i]!)));
  const pattern = ctx.graph.addConstant(ctx.graph.uniqueName('maxpool_grad_origins'), Tensor.fromValues('int64', ySpatial, origins.map((v) => BigInt(v))));
  const spatialSize = xSpatial.reduce((a, b) => a * b, 1);
  const planes = ctx.op('Div', [ctx.op('Size', [y]), ctx.scalar(ySpatial.reduce((a, b) => a * b, 1), 'int64')]);
  const planeStarts = ctx.op('Mul', [ctx.op('Range', [ctx.scalar(0, 'int64'), planes, ctx.scalar(1, 'int64')]), ctx.scalar(spatialSize, 'int64')]);
  const origin = ctx.op('Add', [ctx.reshape(planeStarts, [-1, ...ySpatial.map(() => 1)]), pattern]);
  const flatOffset = ctx.reshape(ctx.op('Cast', [offset], { to: 7 }), [-1, ...ySpatial]);
  const indices = ctx.reshapeLike(ctx.op('Add', [origin, flatOffset]), y);

  const scatter = (grad: Value): Value => (ctx.typeOf(x).dtype === 'float32'
    ? ctx.op('MaxUnpool', [grad, indices, ctx.shapeOf(x)], { kernel_shape: kernel, strides: kernel })
    : scatterAddFlat(ctx, x, indices, grad));
  const dx = scatter(dy);
  tiledGradients.set(dx, { poolInput: x, pooled: y, pooledGrad: dy, scatter });
  return dx;
}

/** How a tiling MaxPool's input gradient was made, so that the rule of the op before it can mask the small tensor. */
export interface TiledMaxPoolGradient {
  /** The MaxPool's input X and output Y. */
  readonly poolInput: Value;
  readonly pooled: Value;
  /** dY, shaped like Y. */
  readonly pooledGrad: Value;
  /** Writes a Y-shaped gradient to the same positions of an X-shaped zero tensor. */
  readonly scatter: (grad: Value) => Value;
}

const tiledGradients = new WeakMap<Value, TiledMaxPoolGradient>();

/** The record of `value` if it is a tiling MaxPool's input gradient made by `tiledMaxPoolGradient`. */
export function tiledMaxPoolGradientOf(value: Value): TiledMaxPoolGradient | undefined {
  return tiledGradients.get(value);
}

const SCATTER_OPS = new Set(['onnx.MaxUnpool', 'onnx.Reshape', 'onnx.ScatterElements', 'onnx.ConstantOfShape']);

/** Erases the nodes of a scatter that nothing reads any more (never Shape nodes, which GradientContext caches). */
export function eraseUnusedScatter(value: Value): void {
  const node = value.producer;
  if (!node || !SCATTER_OPS.has(node.op) || node.outputs.some((o) => o && (o.hasUses || o.isGraphOutput))) return;
  const inputs = node.inputs.filter((input): input is Value => !!input);
  node.erase();
  for (const input of inputs) eraseUnusedScatter(input);
}
