/**
 * Which operands of which nodes `convert-float16` moves to 16-bit floats, from ONNX's own type
 * constraints (the op's signature at the model's opset): an operand bound to a type variable that
 * binds float32 on this node switches when the variable also allows the target type; operands of
 * fixed type (`tensor(float)`, e.g. QuantizeLinear's scale before opset 19) stay float32. A node
 * converts when at least one operand switches, it is an ONNX op the table knows, holds no
 * subgraph, every operand's type is known, the user did not keep it (`keep=` op types or node
 * names) and its op is not in `KEPT_FLOAT32_OPS`.
 */
import type { Node, Value } from '@modelpass/ir';
import { onnxTypeSignatures, type FormalParam } from '@modelpass/ops';

/**
 * Ops kept float32 by default although ONNX allows 16-bit types: ops ONNX Runtime has no 16-bit
 * CPU kernel for that converters keep float32 by convention (onnxconverter-common's block list:
 * NonMaxSuppression, TopK, RoiAlign, Range, CumSum, Min, Max, Upsample), the random generators
 * (their `dtype` attribute, not an input, picks the output type) and the signal ops whose
 * `output_datatype` attribute picks it (HannWindow, HammingWindow, BlackmanWindow, MelWeightMatrix:
 * switched, they declared float16 outputs their float32 attribute contradicts — passes fuzz,
 * ONNX's conformance models test_hannwindow* and kin). Any other op missing a float16
 * CPU kernel still runs: ORT's InsertCastTransformer computes it in float32 between casts.
 */
export const KEPT_FLOAT32_OPS: ReadonlySet<string> = new Set([
  'NonMaxSuppression',
  'TopK',
  'RoiAlign',
  'Range',
  'CumSum',
  'Min',
  'Max',
  'Upsample',
  'RandomUniform',
  'RandomNormal',
  'RandomUniformLike',
  'RandomNormalLike',
  'Multinomial',
  'Bernoulli',
  'EyeLike',
  'HannWindow',
  'HammingWindow',
  'BlackmanWindow',
  'MelWeightMatrix',
]);

export type Precision = 'half' | 'float32';

/**
 * Why `node` stays float32 although it could switch, to keep ONNX Runtime from crashing on the
 * file, or undefined. onnxruntime-node 1.30 (CPU) segfaults while creating a session at the default
 * graph optimization level ('all'; 'extended' and lower load) on a valid model where a float16
 * Transpose that moves a leading axis (perm [1,0,2], as torch's MultiheadAttention exports)
 * feeds a float16 MatMul (QA s12 R1, nn.TransformerEncoder): disabling only its NchwcTransformer
 * (session config `optimization.disable_specified_optimizers`) avoids the crash. A float32
 * Transpose there loads, and costs nothing on CPU, where ORT computes a float16 MatMul in float32
 * between casts anyway; so every Transpose that feeds a MatMul stays float32.
 */
export function ortCrashGuard(node: Node): string | undefined {
  if (node.opType !== 'Transpose' || node.dialect !== 'onnx') return undefined;
  const feedsMatMul = node.outputs.some((output) => output !== null && [...output.uses].some((use) => use.node?.opType === 'MatMul' && use.node.dialect === 'onnx'));
  return feedsMatMul ? 'a float16 Transpose feeding a MatMul crashes ONNX Runtime 1.30 at its default optimization level (NchwcTransformer); kept float32 (see README)' : undefined;
}

/** Per operand of a converted node: the precision its data has (outputs) or needs (inputs). */
export interface NodePlan {
  readonly inputs: readonly (Precision | undefined)[];
  readonly outputs: readonly (Precision | undefined)[];
}

export function isFloat32(value: Value | null | undefined): value is Value {
  return value?.type.kind === 'tensor' && value.type.dtype === 'float32';
}

/**
 * A Cast from float32 to the target type or back: the boundary a converted model already has (convert-float16 run on its
 * own output converted them: x → Cast → Cast(to=float16), and y's Cast(to=float32) became a float16 Cast plus another).
 */
function isPrecisionBoundary(node: Node, target: 'float16' | 'bfloat16'): boolean {
  if (node.opType !== 'Cast') return false;
  const input = node.inputs[0];
  const output = node.outputs[0];
  const dtype = (value: Value | null | undefined): string | undefined => (value?.type.kind === 'tensor' ? value.type.dtype : undefined);
  return (dtype(input) === 'float32' && dtype(output) === target) || (dtype(input) === target && dtype(output) === 'float32');
}

/** The formal parameter each actual operand binds to (variadic ones take the rest). */
function bindParams(formals: readonly FormalParam[], count: number): (FormalParam | undefined)[] {
  const bound: (FormalParam | undefined)[] = [];
  for (let i = 0, f = 0; i < count; i++) {
    const formal = formals[Math.min(f, formals.length - 1)];
    bound.push(formal);
    if (formal && formal.arity !== 'variadic' && formal.arity !== 'heterogeneous') f++;
  }
  return bound;
}

/** The plan of `node`, or why it stays float32 as a whole. */
export function planNode(node: Node, target: 'float16' | 'bfloat16', opset: number | undefined, keep: ReadonlySet<string>): NodePlan | string {
  if (node.dialect !== 'onnx') return `op ${node.op} is not an ONNX op`;
  if (![...node.inputs, ...node.outputs].some(isFloat32)) return 'no float32 operand';
  if (keep.has(node.opType) || keep.has(node.name)) return 'kept by option keep';
  if (KEPT_FLOAT32_OPS.has(node.opType)) return `${node.opType} stays float32 (see KEPT_FLOAT32_OPS)`;
  if (isPrecisionBoundary(node, target)) return `a Cast between float32 and ${target} already (a converted model's boundary)`;
  if (node.subgraphs.length > 0) return 'it holds subgraphs';
  if (![...node.inputs, ...node.outputs].every((value) => value === null || value.type.kind === 'tensor')) return 'an operand has no known tensor type';
  const signature = onnxTypeSignatures.candidates(node.opType, opset)[0];
  if (!signature) return `ONNX's type constraints do not know ${node.opType} at opset ${opset ?? '?'}`;
  const inputs = bindParams(signature.inputs, node.inputs.length);
  const outputs = bindParams(signature.outputs, node.outputs.length);
  // Type variables binding float32 here that allow the target: they switch together.
  const switching = new Set<string>();
  const blocked = new Set<string>();
  const consider = (value: Value | null, formal: FormalParam | undefined) => {
    if (!isFloat32(value) || !formal) return;
    const allowed = signature.allowed.get(formal.typeVariable);
    if (allowed?.has(target) && !formal.typeVariable.startsWith('tensor(')) switching.add(formal.typeVariable);
    else blocked.add(formal.typeVariable);
  };
  node.inputs.forEach((value, i) => consider(value, inputs[i]));
  node.outputs.forEach((value, i) => consider(value, outputs[i]));
  for (const variable of blocked) switching.delete(variable);
  if (switching.size === 0) return `its float32 operands must stay float32 for ${node.opType}-${signature.sinceVersion} (${target} not allowed)`;
  const precision = (value: Value | null, formal: FormalParam | undefined): Precision | undefined =>
    !isFloat32(value) ? undefined : formal && switching.has(formal.typeVariable) ? 'half' : 'float32';
  return { inputs: node.inputs.map((value, i) => precision(value, inputs[i])), outputs: node.outputs.map((value, i) => precision(value, outputs[i])) };
}
