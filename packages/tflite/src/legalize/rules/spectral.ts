/**
 * DFT and STFT of static sizes as one FULLY_CONNECTED by a constant DFT matrix (TFLite 2.9's RFFT2D
 * is real-input, 2-D and power-of-two only): the transformed axis and the (real, imaginary) channel
 * are flattened into the FC input, the matrix maps them to `bins × 2` outputs (zero-padding,
 * truncation to `dft_length`, `onesided`, `inverse` and its 1/L are in the matrix), RESHAPE splits
 * the bins back. An axis other than the one before last is moved there and back by TRANSPOSE. STFT
 * first GATHERs its frames ([batch, frames, frame_length, c]); the window is folded into the matrix.
 */
import { Tensor, tensorType, type Node } from '@modelpass/ir';
import { constantOf, numbersOf } from '../constant-values.js';
import type { LoweringContext, LoweringRule } from '../lowering-rule.js';
import { replaceNode, staticDims, TfliteEmitter, tensorTypeOf } from '../lowering-tools.js';

/** FC weights [bins·2, n·channels] of a DFT of length `length` over `n` samples, `window` folded in. */
function dftMatrix(length: number, n: number, channels: number, bins: number, inverse: boolean, window?: readonly number[]): Tensor {
  const sign = inverse ? 1 : -1;
  const scale = inverse ? 1 / length : 1;
  const columns = n * channels;
  const values = new Array<number>(bins * 2 * columns).fill(0);
  for (let k = 0; k < bins; k++) {
    for (let t = 0; t < Math.min(n, length); t++) {
      const theta = (2 * Math.PI * ((k * t) % length)) / length;
      const w = (window?.[t] ?? 1) * scale;
      const c = Math.cos(theta) * w;
      const s = sign * Math.sin(theta) * w;
      const re = k * 2 * columns + t * channels;
      const im = (k * 2 + 1) * columns + t * channels;
      values[re] = c;
      values[im] = s;
      if (channels === 2) {
        values[re + 1] = -s;
        values[im + 1] = c;
      }
    }
  }
  return Tensor.fromValues('float32', [bins * 2, columns], values);
}

/** A DFT matrix above this many elements (64 MiB of float32) is refused rather than written into the file. */
export const MAX_DFT_MATRIX_ELEMENTS = 16 * 1024 * 1024;

function matrixProblem(bins: number, columns: number): string | undefined {
  const elements = bins * 2 * columns;
  return elements > MAX_DFT_MATRIX_ELEMENTS ? `its DFT matrix would hold ${elements} values (${Math.round((elements * 4) / 2 ** 20)} MiB), more than ${MAX_DFT_MATRIX_ELEMENTS}` : undefined;
}

function dftAxisOf(node: Node, rank: number, opset: number): number | undefined {
  let axis: number | undefined;
  if (opset >= 20) axis = node.inputs[2] ? numbersOf(node.inputs[2])?.[0] : -2;
  else axis = node.optionalAttr('axis', 'int') ?? 1;
  if (axis === undefined) return undefined;
  const normalized = axis < 0 ? axis + rank : axis;
  return normalized >= 0 && normalized <= rank - 2 ? normalized : undefined;
}

function dftProblem(node: Node, context: LoweringContext): string | undefined {
  const dims = staticDims(node.inputs[0]);
  if (!dims || dims.length < 3) return 'DFT needs a static input shape [batch, …, n, 1 or 2]';
  if (dims.length > 5) return 'DFT over more than 5 dims is not supported (TFLite 2.9 TRANSPOSE)';
  if (dims[dims.length - 1] !== 1 && dims[dims.length - 1] !== 2) return 'the last dim must be 1 (real) or 2 (complex)';
  if (tensorTypeOf(node.inputs[0])?.dtype !== 'float32') return 'DFT is lowered for float32 only';
  if (dftAxisOf(node, dims.length, context.model.opset('onnx') ?? 20) === undefined) return 'the axis must be a constant in range';
  if (node.inputs[1] && !numbersOf(node.inputs[1])) return 'dft_length must be a constant';
  const axis = dftAxisOf(node, dims.length, context.model.opset('onnx') ?? 20)!;
  const length = node.inputs[1] ? numbersOf(node.inputs[1])![0]! : dims[axis]!;
  if (length < 1) return `dft_length ${length} must be positive`;
  const bins = (node.optionalAttr('onesided', 'int') ?? 0) === 1 ? Math.floor(length / 2) + 1 : length;
  return matrixProblem(bins, dims[axis]! * dims[dims.length - 1]!);
}

function lowerDft(node: Node, context: LoweringContext): void {
  const emit = new TfliteEmitter(node, context);
  const dims = staticDims(node.inputs[0])!;
  const rank = dims.length;
  const axis = dftAxisOf(node, rank, context.model.opset('onnx') ?? 20)!;
  const channels = dims[rank - 1]!;
  const n = dims[axis]!;
  const length = node.inputs[1] ? numbersOf(node.inputs[1])![0]! : n;
  const bins = (node.optionalAttr('onesided', 'int') ?? 0) === 1 ? Math.floor(length / 2) + 1 : length;
  const inverse = (node.optionalAttr('inverse', 'int') ?? 0) === 1;
  const perm = Array.from({ length: rank }, (_, i) => i);
  perm[axis] = rank - 2;
  perm[rank - 2] = axis;
  const moved = perm.map((p) => dims[p]!);
  let x = node.input(0);
  if (axis !== rank - 2) x = emit.op1('TRANSPOSE', [x, emit.int32(perm, [rank], 'perm')], {}, tensorType('float32', moved));
  const lead = moved.slice(0, rank - 2);
  const flat = emit.op1('RESHAPE', [x, emit.int32([...lead, n * channels], [rank - 1], 'flat_shape')], {}, tensorType('float32', [...lead, n * channels]));
  const weights = emit.constant(dftMatrix(length, n, channels, bins, inverse), 'dft_matrix');
  const product = emit.op1('FULLY_CONNECTED', [flat, weights, null], { fused_activation_function: 'NONE', keep_num_dims: 1 }, tensorType('float32', [...lead, bins * 2]));
  let y = emit.op1('RESHAPE', [product, emit.int32([...lead, bins, 2], [rank], 'bins_shape')], {}, tensorType('float32', [...lead, bins, 2]));
  if (axis !== rank - 2) y = emit.op1('TRANSPOSE', [y, emit.int32(perm, [rank], 'perm_back')], {}, node.output(0).type);
  replaceNode(node, [y]);
}

interface StftGeometry {
  readonly batch: number;
  readonly channels: number;
  readonly step: number;
  readonly frameLength: number;
  readonly frames: number;
  readonly window?: number[];
}

function stftGeometry(node: Node): StftGeometry | string {
  const dims = staticDims(node.inputs[0]);
  if (!dims || dims.length !== 3 || (dims[2] !== 1 && dims[2] !== 2)) return 'STFT needs a static signal shape [batch, length, 1 or 2]';
  if (tensorTypeOf(node.inputs[0])?.dtype !== 'float32') return 'STFT is lowered for float32 only';
  const step = numbersOf(node.inputs[1])?.[0];
  if (!step || step < 1) return 'frame_step must be a positive constant';
  const window = node.inputs[2] ? constantOf(node.inputs[2])?.toNumbers() : undefined;
  if (node.inputs[2] && !window) return 'the window must be a constant';
  const given = node.inputs[3] ? numbersOf(node.inputs[3])?.[0] : undefined;
  if (node.inputs[3] && given === undefined) return 'frame_length must be a constant';
  const frameLength = given ?? window?.length;
  if (!frameLength || frameLength > dims[1]!) return 'needs a window or frame_length no longer than the signal';
  if (window && window.length !== frameLength) return 'the window length differs from frame_length';
  const tooBig = matrixProblem((node.optionalAttr('onesided', 'int') ?? 1) === 1 ? Math.floor(frameLength / 2) + 1 : frameLength, frameLength * dims[2]!);
  if (tooBig) return tooBig;
  return { batch: dims[0]!, channels: dims[2]!, step, frameLength, frames: Math.floor((dims[1]! - frameLength) / step) + 1, window };
}

function lowerStft(node: Node, context: LoweringContext): void {
  const emit = new TfliteEmitter(node, context);
  const g = stftGeometry(node) as StftGeometry;
  const bins = (node.optionalAttr('onesided', 'int') ?? 1) === 1 ? Math.floor(g.frameLength / 2) + 1 : g.frameLength;
  const indices: number[] = [];
  for (let f = 0; f < g.frames; f++) for (let t = 0; t < g.frameLength; t++) indices.push(f * g.step + t);
  const framed = emit.op1('GATHER', [node.input(0), emit.int32(indices, [g.frames, g.frameLength], 'frame_indices')], { axis: 1, batch_dims: 0 }, tensorType('float32', [g.batch, g.frames, g.frameLength, g.channels]));
  const flat = emit.op1('RESHAPE', [framed, emit.int32([g.batch, g.frames, g.frameLength * g.channels], [3], 'flat_shape')], {}, tensorType('float32', [g.batch, g.frames, g.frameLength * g.channels]));
  const weights = emit.constant(dftMatrix(g.frameLength, g.frameLength, g.channels, bins, false, g.window), 'dft_matrix');
  const product = emit.op1('FULLY_CONNECTED', [flat, weights, null], { fused_activation_function: 'NONE', keep_num_dims: 1 }, tensorType('float32', [g.batch, g.frames, bins * 2]));
  replaceNode(node, [emit.op1('RESHAPE', [product, emit.int32([g.batch, g.frames, bins, 2], [4], 'bins_shape')], {}, node.output(0).type)]);
}

export const spectralRules: readonly LoweringRule[] = [
  { ops: ['onnx.DFT'], stage: 'lower', targets: ['TRANSPOSE', 'RESHAPE', 'FULLY_CONNECTED'], check: dftProblem, lower: lowerDft },
  {
    ops: ['onnx.STFT'],
    stage: 'lower',
    targets: ['GATHER', 'RESHAPE', 'FULLY_CONNECTED'],
    check: (node) => {
      const geometry = stftGeometry(node);
      return typeof geometry === 'string' ? geometry : undefined;
    },
    lower: lowerStft,
  },
];
