/**
 * full-integer=true: a transformer's float patterns spelled so that an int8-only target can run them on integers
 * with intermediate scales calibrated like any activation, while ONNX Runtime runs the same QDQ model (its float
 * kernels between DequantizeLinear and QuantizeLinear: the same reals).
 *
 * Rewrites of the float model, before planning and calibration (each keeps the output's name):
 * - `LayerNormalization` (opset 17) → the decomposed spelling below, with `ReduceMean`/`Sub`/`Mul`/`Add` (ORT runs no
 *   quantized LayerNormalization; TFLite 2.9 has none at all, and int8 MEAN/SUB/MUL/RSQRT/ADD);
 * - `Pow(x, 2)` → `Mul(x, x)` (TFLite 2.9 has no int8 POW; MUL int8 squares);
 * - `Div(a, Sqrt(v))` → `Mul(a, Reciprocal(Sqrt(v)))` (no int8 DIV or SQRT; `Reciprocal(Sqrt(v))` is RSQRT);
 * - `Div(x, c)` by a float scalar constant → `Mul(x, 1/c)` (attention's 1/√d, GELU's 1/√2: MUL int8).
 *
 * Composites: float patterns quantized at their input and output only (the inner values stay float in the QDQ
 * model; the target lowers the whole pattern to one int8 op whose output scale is the pattern's calibrated one):
 * - erf-GELU, `x · 0.5 · (1 + erf(x/√2))` as torch exports it (either order of the multiplications) → GELU;
 * - `Reciprocal(Sqrt(v))` → RSQRT.
 * The composite's entry node (the one reading x) gets the `composite` rule: x is quantized for it; the pattern's
 * output is quantized where a quantized op reads it (an entry QuantizeLinear with its calibrated range).
 */
import { attrs, Tensor, type Graph, type Node, type Value } from '@modelpass/ir';

export interface Composite {
  readonly kind: 'gelu' | 'rsqrt';
  /** The node that reads the composite's input (its `composite` rule quantizes that input). */
  readonly entry: Node;
  /** Which input of `entry` is the composite's input. */
  readonly inputIndex: number;
  /** The other nodes of the pattern (float inside), the last one computing the composite's output. */
  readonly inner: readonly Node[];
  readonly exit: Node;
}

export interface FullIntegerRewrites {
  readonly layerNorms: number;
  readonly squares: number;
  readonly reciprocalSqrts: number;
  readonly divisionsByConstant: number;
}

function scalar(value: Value | null | undefined): number | undefined {
  const constant = value?.constant;
  if (!constant || constant.dtype !== 'float32' || constant.size !== 1 || value!.isGraphInput) return undefined;
  return constant.toNumbers()[0];
}

function near(value: number | undefined, expected: number): boolean {
  return value !== undefined && Math.abs(value - expected) <= 1e-4 * Math.abs(expected);
}

/** Replaces `node` by a new node of `op` on `inputs`, its output keeping the name (readers and calibration see the same value). */
function replaceBy(node: Node, op: string, inputs: Value[]): Node {
  const graph = node.graph!;
  const output = node.output(0);
  const created = graph.createNode({ op, name: graph.uniqueNodeName(`${node.name}/${op.slice(5).toLowerCase()}`), inputs, outputs: [{ name: graph.uniqueName(`${output.name}_rewritten`), type: output.type }], before: node });
  const name = output.name;
  output.replaceAllUsesWith(created.output(0));
  node.erase();
  created.output(0).rename(name);
  return created;
}

function isFloat(value: Value | null | undefined): value is Value {
  return !!value && value.type.kind === 'tensor' && value.type.dtype === 'float32';
}

/**
 * LayerNormalization (one output used, constant scale/bias, known rank) → ReduceMean, Sub, Mul (the square),
 * ReduceMean, Add ε, Sqrt, Reciprocal, Mul, Mul scale, Add bias: the spelling torch exports below opset 17.
 */
function decomposeLayerNorm(node: Node, opset: number): boolean {
  const x = node.inputs[0];
  const output = node.output(0);
  const shape = x?.type.kind === 'tensor' ? x.type.shape : undefined;
  if (!x || !shape || !isFloat(x) || node.outputs.slice(1).some((v) => v && (v.uses.size > 0 || v.isGraphOutput))) return false;
  const scale = node.inputs[1];
  const bias = node.inputs[2];
  if (!scale?.constant || scale.isGraphInput || (bias && (!bias.constant || bias.isGraphInput))) return false;
  const rank = shape.length;
  const axis = node.optionalAttr('axis', 'int') ?? -1;
  const first = axis < 0 ? axis + rank : axis;
  if (first < 0 || first >= rank) return false;
  const axes = Array.from({ length: rank - first }, (_, i) => first + i);
  const epsilon = node.optionalAttr('epsilon', 'float') ?? 1e-5;
  const graph = node.graph!;
  const type = output.type;
  const reducedType = { ...x.type, shape: shape.map((d, i) => (i >= first ? 1 : d)) } as Value['type'];
  let count = 0;
  const create = (op: string, inputs: Value[], resultType: Value['type'], attributes: Record<string, ReturnType<typeof attrs.ints>> = {}) =>
    graph.createNode({ op, name: graph.uniqueNodeName(`${node.name}/${op.slice(5).toLowerCase()}${count++}`), inputs, outputs: [{ name: graph.uniqueName(`${output.name}_${op.slice(5).toLowerCase()}`), type: resultType }], attributes, before: node }).output(0);
  const mean = (value: Value) =>
    opset >= 18
      ? create('onnx.ReduceMean', [value, graph.addConstant(graph.uniqueName(`${node.name}_axes`), Tensor.fromValues('int64', [axes.length], axes.map(BigInt)))], reducedType, { keepdims: attrs.int(1) })
      : create('onnx.ReduceMean', [value], reducedType, { axes: attrs.ints(axes), keepdims: attrs.int(1) });
  const centred = create('onnx.Sub', [x, mean(x)], x.type);
  const variance = mean(create('onnx.Mul', [centred, centred], x.type));
  const shifted = create('onnx.Add', [variance, graph.addConstant(graph.uniqueName(`${node.name}_epsilon`), Tensor.scalar('float32', epsilon))], reducedType);
  const inverse = create('onnx.Reciprocal', [create('onnx.Sqrt', [shifted], reducedType)], reducedType);
  const scaled = create('onnx.Mul', [create('onnx.Mul', [centred, inverse], x.type), scale], type);
  const result = bias ? create('onnx.Add', [scaled, bias], type) : scaled;
  const name = output.name;
  output.replaceAllUsesWith(result);
  node.erase();
  result.rename(name);
  return true;
}

/** The float-model rewrites of full-integer=true (see the file's comment). */
export function rewriteForFullInteger(graph: Graph, opset = 13, exclude: readonly string[] = []): FullIntegerRewrites {
  // A node exclude= names (by name or op type) keeps its spelling, so it stays excluded.
  const kept = (node: Node) => exclude.some((entry) => entry === node.name || entry === node.op || `onnx.${entry}` === node.op);
  let layerNorms = 0;
  for (const node of [...graph.nodesOf('onnx.LayerNormalization')]) if (!kept(node) && decomposeLayerNorm(node, opset)) layerNorms++;
  let squares = 0;
  let reciprocalSqrts = 0;
  let divisionsByConstant = 0;
  for (const node of [...graph.nodes()]) {
    if (!node.graph || !isFloat(node.outputs[0]) || kept(node)) continue;
    if (node.op === 'onnx.Pow' && near(scalar(node.inputs[1]), 2) && isFloat(node.inputs[0])) {
      replaceBy(node, 'onnx.Mul', [node.input(0), node.input(0)]);
      squares++;
    } else if (node.op === 'onnx.Sqrt' && !node.output(0).isGraphOutput && node.output(0).uses.size > 0) {
      const sqrt = node.output(0);
      const uses = [...sqrt.uses];
      if (!uses.every((use) => use.node?.op === 'onnx.Div' && use.index === 1 && use.node.inputs[0] !== sqrt && !kept(use.node))) continue;
      const graph = node.graph;
      const reciprocal = graph.createNode({ op: 'onnx.Reciprocal', name: graph.uniqueNodeName(`${node.name}/reciprocal`), inputs: [sqrt], outputs: [{ name: graph.uniqueName(`${sqrt.name}_reciprocal`), type: sqrt.type }], after: node });
      for (const division of new Set(uses.map((use) => use.node!))) replaceBy(division, 'onnx.Mul', [division.input(0), reciprocal.output(0)]);
      reciprocalSqrts++;
    }
  }
  for (const node of [...graph.nodes()]) {
    if (!node.graph || node.op !== 'onnx.Div' || kept(node) || !isFloat(node.outputs[0]) || !isFloat(node.inputs[0]) || node.inputs[0]!.constant !== undefined) continue;
    const divisor = scalar(node.inputs[1]);
    if (divisor === undefined || divisor === 0 || !Number.isFinite(1 / divisor)) continue;
    const graph = node.graph;
    const inverse = graph.addConstant(graph.uniqueName(`${node.inputs[1]!.name}_reciprocal`), Tensor.fromValues('float32', node.inputs[1]!.constant!.shape, [1 / divisor]));
    replaceBy(node, 'onnx.Mul', [node.input(0), inverse]);
    divisionsByConstant++;
  }
  return { layerNorms, squares, reciprocalSqrts, divisionsByConstant };
}

function onlyUser(value: Value): Node | undefined {
  const uses = [...value.uses];
  return uses.length === 1 && !value.isGraphOutput ? (uses[0]!.node ?? undefined) : undefined;
}

/** The other input of a binary node, given one of them. */
function otherInput(node: Node, value: Value): Value | null | undefined {
  if (node.inputs[0] === value) return node.inputs[1];
  if (node.inputs[1] === value) return node.inputs[0];
  return undefined;
}

/** erf-GELU at its Erf node (torch's `x · 0.5 · (1 + erf(x/√2))`, either order of the multiplications). */
function geluAt(erf: Node): Composite | undefined {
  const scaled = erf.inputs[0];
  const entry = scaled?.producer;
  if (!scaled || !entry || onlyUser(scaled) !== erf) return undefined;
  let inputIndex = -1;
  if (entry.op === 'onnx.Div' && near(scalar(entry.inputs[1]), Math.SQRT2)) inputIndex = 0;
  else if (entry.op === 'onnx.Mul') inputIndex = near(scalar(entry.inputs[1]), Math.SQRT1_2) ? 0 : near(scalar(entry.inputs[0]), Math.SQRT1_2) ? 1 : -1;
  const x = entry.inputs[inputIndex];
  if (!x || !isFloat(x)) return undefined;
  const plusOne = onlyUser(erf.output(0));
  if (!plusOne || plusOne.op !== 'onnx.Add' || !near(scalar(otherInput(plusOne, erf.output(0))), 1)) return undefined;
  const first = onlyUser(plusOne.output(0));
  if (!first || first.op !== 'onnx.Mul') return undefined;
  const firstOther = otherInput(first, plusOne.output(0));
  if (firstOther === x) {
    // (x · (1 + erf)) · 0.5
    const half = onlyUser(first.output(0));
    if (!half || half.op !== 'onnx.Mul' || !near(scalar(otherInput(half, first.output(0))), 0.5)) return undefined;
    return { kind: 'gelu', entry, inputIndex, inner: [erf, plusOne, first, half], exit: half };
  }
  // (x · 0.5) · (1 + erf)
  const halfNode = firstOther?.producer;
  if (!halfNode || halfNode.op !== 'onnx.Mul' || onlyUser(firstOther!) !== first || !near(scalar(otherInput(halfNode, x)), 0.5)) return undefined;
  return { kind: 'gelu', entry, inputIndex, inner: [erf, plusOne, halfNode, first], exit: first };
}

/** `Reciprocal(Sqrt(v))` at its Sqrt node (the Sqrt's output read by the Reciprocal only). */
function rsqrtAt(sqrt: Node): Composite | undefined {
  const reciprocal = onlyUser(sqrt.output(0));
  if (!reciprocal || reciprocal.op !== 'onnx.Reciprocal' || !isFloat(sqrt.inputs[0])) return undefined;
  return { kind: 'rsqrt', entry: sqrt, inputIndex: 0, inner: [reciprocal], exit: reciprocal };
}

/** Every composite of the graph (in graph order of their Erf / Sqrt nodes). */
export function findComposites(graph: Graph): Composite[] {
  const found: Composite[] = [];
  for (const node of graph.nodes()) {
    const composite = node.op === 'onnx.Erf' ? geluAt(node) : node.op === 'onnx.Sqrt' ? rsqrtAt(node) : undefined;
    if (composite) found.push(composite);
  }
  return found;
}

/** ORT's and the int8 target's kernel for a composite (statistics and the report). */
export const COMPOSITE_KERNELS: Readonly<Record<Composite['kind'], string>> = {
  gelu: 'erf-GELU quantized at its input and output (float inside in ORT; TFLite GELU int8)',
  rsqrt: '1/√x quantized at its input and output (float inside in ORT; TFLite RSQRT int8)',
};

/** Head-split layouts of multi-head attention: `[N, L, H, hd]` by `[0,2,1,3]` / keys `[0,2,3,1]`, `[L, H, hd]` by `[1,0,2]` / `[1,2,0]`. */
const HEAD_SPLIT_PERMS = new Set(['0,2,1,3', '0,2,3,1', '1,0,2', '1,2,0']);

/**
 * MatMuls by a constant whose output (through a bias Add and a Slice of the last axis) is split into attention heads
 * (Reshape → Transpose): full-integer quantizes their weights per tensor, so an int8 target can compute the heads
 * head-major straight from the projection with one weight scale (TFLite 2.9's BATCH_MATMUL; legalize-tflite's
 * attention-heads-int8.ts) — the same integers as ORT's MatMul instead of requantized weights.
 */
export function headSplitProjections(graph: Graph): Set<Node> {
  const found = new Set<Node>();
  for (const transpose of graph.nodesOf('onnx.Transpose')) {
    const perm = transpose.getAttribute('perm');
    if (perm?.kind !== 'ints' || !HEAD_SPLIT_PERMS.has(perm.value.map(Number).join(','))) continue;
    const reshape = transpose.inputs[0]?.producer;
    if (reshape?.op !== 'onnx.Reshape') continue;
    let value = reshape.inputs[0];
    if (value?.producer?.op === 'onnx.Slice') value = value.producer.inputs[0];
    let producer = value?.producer;
    if (producer?.op === 'onnx.Add') producer = producer.inputs.map((input) => input?.producer).find((p) => p?.op === 'onnx.MatMul');
    if (producer?.op === 'onnx.MatMul' && producer.inputs[1]?.constant?.rank === 2) found.add(producer);
  }
  return found;
}
