import { attrs, isTensorType, Tensor, tensorType, type DiagnosticInit, type Graph, type Value } from '@modelpass/ir';

/**
 * float64 tensors in a model for TFLite. TFLite 2.9's kernels take no float64 tensor at all (not
 * even CAST: "Type FLOAT64 is unsupported by op Cast"), so a float64 value can be neither computed
 * nor converted at run time. `legalize-tflite` computes such values in float32: every float64 value
 * of the main graph is retyped float32 (constants converted, a Cast to double becomes a Cast to
 * float), graph inputs and outputs included, which a note names (the .tflite takes and gives float32
 * there). Results are then as exact as float32. Ops carrying a dtype attribute other than Cast's
 * (ConstantOfShape, EyeLike, Random*) leave the model as it is, and their rules refuse float64.
 */

const ONNX_DOUBLE = 11;
const ONNX_FLOAT = 1;
/** Ops that choose an output dtype by attribute or tensor value: retyping around them would change their meaning. */
const DTYPE_CHOOSERS = new Set(['onnx.ConstantOfShape', 'onnx.EyeLike', 'onnx.RandomUniform', 'onnx.RandomNormal', 'onnx.RandomUniformLike', 'onnx.RandomNormalLike', 'onnx.Multinomial', 'onnx.Bernoulli', 'onnx.Constant']);

const isFloat64 = (value: Value | null | undefined): value is Value => Boolean(value && isTensorType(value.type) && value.type.dtype === 'float64');

export interface Float64Result {
  /** float64 values now float32. */
  readonly values: number;
  /** Graph inputs and outputs among them, by name. */
  readonly boundary: readonly string[];
}

/** Retypes the main graph's float64 values as float32 (see the file comment); nothing when it has none or one of `DTYPE_CHOOSERS` reads or writes them. */
export function float64AsFloat32(graph: Graph): Float64Result {
  // Collected as found: most models have none, and a copy of every value to filter was garbage at once.
  const values: Value[] = [];
  for (const value of graph.definedValues()) if (isFloat64(value)) values.push(value);
  if (values.length === 0) return { values: 0, boundary: [] };
  for (const node of graph.nodes()) {
    if (!DTYPE_CHOOSERS.has(node.op)) continue;
    if (node.inputs.some(isFloat64) || node.outputs.some(isFloat64)) return { values: 0, boundary: [] };
  }
  for (const value of values) {
    const type = value.type as ReturnType<typeof tensorType>;
    value.type = tensorType('float32', type.shape, type.quant);
    if (value.constant) graph.markConstant(value, Tensor.fromValues('float32', value.constant.shape, value.constant.toNumbers()));
  }
  for (const node of graph.nodes()) {
    if (node.op === 'onnx.Cast' && node.optionalAttr('to', 'int') === ONNX_DOUBLE) node.setAttribute('to', attrs.int(ONNX_FLOAT));
  }
  const boundary = values.filter((value) => value.isGraphInput || value.isGraphOutput).map((value) => value.name);
  return { values: values.length, boundary };
}

/** The note for graph inputs/outputs that became float32 (none: nothing said). */
export function float64Note(result: Float64Result): DiagnosticInit | undefined {
  if (result.boundary.length === 0) return undefined;
  const names = result.boundary.map((name) => `'${name}'`).join(', ');
  return {
    severity: 'info',
    reason: `float64 graph inputs/outputs ${names} are float32 in the TFLite model: TFLite 2.9 has no float64 kernels (not even CAST), so the model computes in float32`,
    source: '@modelpass/tflite',
  };
}

/** `float64AsFloat32`, reporting the note (what `legalize-tflite` calls). */
export function float64AsFloat32WithNote(graph: Graph, context: { report(diagnostic: DiagnosticInit): void }): Float64Result {
  const result = float64AsFloat32(graph);
  const note = float64Note(result);
  if (note) context.report(note);
  return result;
}
