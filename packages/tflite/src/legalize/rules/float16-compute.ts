/**
 * float16 ONNX models (`convert-float16`) in TFLite's own float16 form. TFLite 2.9's kernels compute
 * in float32 (its CAST takes no float16); a float16 TFLite file stores its weights as float16 buffers
 * read through DEQUANTIZE (float16 → float32), as MediaPipe's files do. So:
 *
 * - before lowering, `float16AsFloat32` retypes every float16 value of the main graph as float32
 *   (float16 constants converted exactly, Constant/ConstantOfShape values too), and a Cast between
 *   float32 and float16 is removed: the boundary Casts of `keep-io=true` disappear.
 *   A fully float16 graph (keep-io=false) gets float32 inputs/outputs, which a note names;
 * - after lowering, `float16WeightsBehindDequantize` stores each float32 weight that came from float16
 *   (every value exactly a float16; `FLOAT16_WEIGHT_MIN_ELEMENTS` or more elements) as a float16 buffer
 *   behind a DEQUANTIZE, transposed filters included.
 *
 * Results are those of the float16 weights computed in float32 (ONNX Runtime also rounds activations to
 * float16, so the two differ by float16 rounding), and the file holds half the weight bytes.
 */
import { attrs, Builder, isTensorType, Tensor, tensorType, type DiagnosticInit, type Graph, type Value } from '@modelpass/ir';
import { replaceNode } from '../lowering-tools.js';

const ONNX_FLOAT = 1;
const ONNX_FLOAT16 = 10;
/** Weights smaller than this stay float32 (scalars and short vectors a kernel may read while preparing). */
export const FLOAT16_WEIGHT_MIN_ELEMENTS = 16;
/** Ops that choose an output dtype by attribute: float16 there is left to their rules, which refuse it. */
const DTYPE_ATTRIBUTE_OPS = new Set(['onnx.EyeLike', 'onnx.RandomUniform', 'onnx.RandomNormal', 'onnx.RandomUniformLike', 'onnx.RandomNormalLike', 'onnx.Multinomial', 'onnx.Bernoulli']);

const isFloat16 = (value: Value | null | undefined): value is Value => Boolean(value && isTensorType(value.type) && value.type.dtype === 'float16');

export interface Float16Result {
  /** float16 values now float32 (0: the model had none, or an op choosing its dtype reads or writes one). */
  readonly values: number;
  /** Graph inputs and outputs among them, by name. */
  readonly boundary: readonly string[];
  /** Casts to or from float16 removed. */
  readonly casts: number;
}

const asFloat32 = (tensor: Tensor): Tensor => Tensor.fromValues('float32', tensor.shape, tensor.toNumbers());

/** Retypes the main graph's float16 values as float32 (see the file comment). */
export function float16AsFloat32(graph: Graph): Float16Result {
  // Collected as found: most models have none, and a copy of every value to filter was garbage at once.
  const values: Value[] = [];
  for (const value of graph.definedValues()) if (isFloat16(value)) values.push(value);
  if (values.length === 0) return { values: 0, boundary: [], casts: 0 };
  for (const node of graph.nodes()) {
    if (DTYPE_ATTRIBUTE_OPS.has(node.op) && (node.inputs.some(isFloat16) || node.outputs.some(isFloat16))) return { values: 0, boundary: [], casts: 0 };
  }
  // Named before the boundary Casts go (a removed Cast's input takes over its output's name).
  const boundary = [...graph.inputs, ...graph.outputs].filter(isFloat16).map((value) => value.name);
  let casts = 0;
  for (const node of graph.nodeList()) {
    if (node.op === 'onnx.Cast') {
      const to = node.optionalAttr('to', 'int');
      const from = node.inputs[0];
      if (to === ONNX_FLOAT16 || (to === ONNX_FLOAT && isFloat16(from))) {
        // float32 ↔ float16 is float32 → float32 now: the Cast goes (its output's readers read its input).
        const fromDtype = from && isTensorType(from.type) ? from.type.dtype : undefined;
        if (from && (fromDtype === 'float16' || fromDtype === 'float32')) {
          replaceNode(node, [from]);
          casts++;
        } else node.setAttribute('to', attrs.int(ONNX_FLOAT));
      }
    } else if (node.op === 'onnx.Constant' || node.op === 'onnx.ConstantOfShape') {
      const value = node.getAttribute('value');
      if (value?.kind === 'tensor' && value.value.dtype === 'float16') node.setAttribute('value', { kind: 'tensor', value: asFloat32(value.value) });
    }
  }
  // Removing a Cast whose input is a graph input and whose output a graph output adds an Identity whose output
  // takes the input's type, still float16 here (passes fuzz s18, test_cast_FLOAT16_to_FLOAT): retyped too.
  if (casts > 0) for (const value of graph.definedValues()) if (isFloat16(value) && !values.includes(value)) values.push(value);
  for (const value of values) {
    const type = value.type as ReturnType<typeof tensorType>;
    value.type = tensorType('float32', type.shape);
    if (value.constant) graph.markConstant(value, asFloat32(value.constant));
  }
  return { values: values.length, boundary: [...new Set(boundary)], casts };
}

/** The note for float16 graph inputs/outputs that became float32 (none: nothing said). */
export function float16Note(result: Float16Result): DiagnosticInit | undefined {
  if (result.boundary.length === 0) return undefined;
  const names = result.boundary.map((name) => `'${name}'`).join(', ');
  return {
    severity: 'info',
    reason:
      `float16 graph inputs/outputs ${names} are float32 in the TFLite model: TFLite's float16 form keeps float16 weights (behind DEQUANTIZE) ` +
      'and computes in float32, with float32 inputs and outputs (convert-float16{keep-io=true} keeps them float32 in the ONNX model too)',
    source: '@modelpass/tflite',
  };
}

/** `float16AsFloat32`, reporting the note (what `legalize-tflite` calls). */
export function float16AsFloat32WithNote(graph: Graph, context: { report(diagnostic: DiagnosticInit): void }): Float16Result {
  const result = float16AsFloat32(graph);
  const note = float16Note(result);
  if (note) context.report(note);
  return result;
}

/** True when every element of a float32 tensor is exactly a float16 value. */
function exactlyFloat16(tensor: Tensor): boolean {
  const values = tensor.toNumbers();
  const halves = Tensor.fromValues('float16', tensor.shape, values).toNumbers();
  return values.every((v, i) => Object.is(v, halves[i]) || v === halves[i]);
}

/**
 * After lowering a model that had float16 weights: every float32 constant of `FLOAT16_WEIGHT_MIN_ELEMENTS`
 * or more elements whose values are all float16 values, read only by tflite ops, becomes a float16
 * constant behind a `tflite.DEQUANTIZE` (placed before its first reader). Returns how many.
 */
export function float16WeightsBehindDequantize(graph: Graph): number {
  let count = 0;
  for (const constant of [...graph.constants]) {
    const tensor = constant.constant;
    if (!tensor || tensor.dtype !== 'float32' || tensor.size < FLOAT16_WEIGHT_MIN_ELEMENTS || constant.isGraphOutput || constant.isGraphInput) continue;
    const readers = [...constant.uses].map((use) => use.node);
    if (readers.length === 0 || readers.some((node) => !node || !node.op.startsWith('tflite.') || node.op === 'tflite.DEQUANTIZE')) continue;
    if (!exactlyFloat16(tensor)) continue;
    const first = graph.nodeList().find((node) => readers.includes(node))!;
    const half = graph.addConstant(graph.uniqueName(`${constant.name}_float16`), Tensor.fromValues('float16', tensor.shape, tensor.toNumbers()));
    const dequantize = Builder.before(first).op1('tflite.DEQUANTIZE', [half], {}, { types: [tensorType('float32', tensor.shape)], name: graph.uniqueNodeName(`${constant.name}_dequantize`) });
    constant.replaceAllUsesWith(dequantize);
    graph.removeConstant(constant);
    count++;
  }
  return count;
}
