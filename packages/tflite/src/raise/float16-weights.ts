/**
 * float16 weights through raise-tflite (QA s17 round 14, item 2). MediaPipe's files store weights as float16 buffers
 * read through DEQUANTIZE; raising folds each such DEQUANTIZE into a float32 constant (the rules transpose filters and
 * read operands as float32), so `.tflite → .onnx → .tflite` stored face_detection_short_range's weights in float32
 * (229,032 → 424,752 bytes) without a word. Now:
 *
 * - `float16-weights=float32` (default) folds as before and says so: how many float16 weights became float32, with
 *   their bytes before and after (values exact: every float16 is a float32);
 * - `float16-weights=float16` keeps them float16 in the ONNX model: after raising, every float32 constant of the main
 *   graph with `FLOAT16_WEIGHT_MIN_ELEMENTS` or more elements, all of them float16 values, becomes a float16
 *   initializer read through `Cast(to=float)` — the spelling legalize-tflite's float16 path turns back into a float16
 *   buffer behind DEQUANTIZE, so the round trip keeps the file's size. Outputs are bit-identical either way.
 */
import { attrs, Builder, Tensor, tensorType, type DiagnosticInit, type Graph, type Node } from '@modelpass/ir';
import { FLOAT16_WEIGHT_MIN_ELEMENTS } from '../legalize/rules/float16-compute.js';
import { constantOf } from '../legalize/constant-values.js';

const ONNX_FLOAT = 1;

/** How raise-tflite stores the float16 weights it raises. */
export type Float16WeightsMode = 'float32' | 'float16';

export interface Float16Weights {
  /** float16 constants behind a DEQUANTIZE in the file (folded into float32 constants while raising). */
  readonly folded: number;
  /** Their bytes as float16. */
  readonly float16Bytes: number;
  /** float32 constants stored back as float16 behind a Cast (`float16-weights=float16`), and their float16 bytes. */
  readonly kept: number;
  readonly keptBytes: number;
}

/** The float16 constant a DEQUANTIZE reads (one the raise folds), or undefined. */
export function float16DequantizeSource(node: Node): Tensor | undefined {
  if (node.op !== 'tflite.DEQUANTIZE') return undefined;
  const tensor = constantOf(node.inputs[0]);
  return tensor?.dtype === 'float16' ? tensor : undefined;
}

/** True when every element of a float32 tensor is exactly a float16 value. */
function exactlyFloat16(tensor: Tensor): boolean {
  const values = tensor.toNumbers();
  const halves = Tensor.fromValues('float16', tensor.shape, values).toNumbers();
  return values.every((v, i) => Object.is(v, halves[i]) || v === halves[i]);
}

/**
 * After raising: each float32 constant of `FLOAT16_WEIGHT_MIN_ELEMENTS` or more elements whose values are all float16
 * values, read only by nodes of `graph` itself, becomes a float16 constant behind an `onnx.Cast(to=float)` placed before
 * its first reader. Returns how many, and their float16 bytes.
 */
export function float16WeightsBehindCast(graph: Graph): { kept: number; keptBytes: number } {
  let kept = 0;
  let keptBytes = 0;
  const order = graph.nodeList();
  for (const constant of [...graph.constants]) {
    const tensor = constant.constant;
    if (!tensor || tensor.dtype !== 'float32' || tensor.size < FLOAT16_WEIGHT_MIN_ELEMENTS || constant.isGraphOutput || constant.isGraphInput) continue;
    const readers = [...constant.uses].map((use) => use.node);
    if (readers.length === 0 || readers.some((node) => !node || node.graph !== graph)) continue;
    if (!exactlyFloat16(tensor)) continue;
    const first = order.find((node) => readers.includes(node))!;
    const half = graph.addConstant(graph.uniqueName(`${constant.name}_float16`), Tensor.fromValues('float16', tensor.shape, tensor.toNumbers()));
    const cast = Builder.before(first).op1('onnx.Cast', [half], { to: attrs.int(ONNX_FLOAT) }, { types: [tensorType('float32', tensor.shape)], name: graph.uniqueNodeName(`${constant.name}_cast`) });
    constant.replaceAllUsesWith(cast);
    graph.removeConstant(constant);
    kept++;
    keptBytes += tensor.size * 2;
  }
  return { kept, keptBytes };
}

/** The note for float16 weights raised as float32 (none folded, or all kept float16: nothing said). */
export function float16WeightsNote(weights: Float16Weights, mode: Float16WeightsMode): DiagnosticInit | undefined {
  if (weights.folded === 0 || mode === 'float16') return undefined;
  const count = weights.folded === 1 ? '1 float16 weight' : `${weights.folded} float16 weights`;
  return {
    severity: 'info',
    reason:
      `raise-tflite: ${count} behind DEQUANTIZE (${weights.float16Bytes} bytes) became float32 constants (${weights.float16Bytes * 2} bytes; values exact), ` +
      'so a model written from the result stores them in float32',
    hint: 'raise-tflite{float16-weights=float16} keeps them float16 behind a Cast (legalize-tflite stores those as float16 behind DEQUANTIZE again)',
    source: '@modelpass/tflite',
    code: 'tflite/float16-weights-widened',
  };
}
