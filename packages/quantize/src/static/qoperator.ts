/**
 * QOperator form: the lowered QDQ groups of quantize-static become integer operators, as ONNX
 * Runtime's quantizer writes them — QLinearConv, QLinearMatMul (onnx), QGemm, MatMulIntegerToFloat,
 * QLinearAdd/QLinearMul, QLinearConcat, QLinearGlobalAveragePool, QLinearAveragePool,
 * QLinearSigmoid, QLinearLeakyRelu, QLinearSoftmax (com.microsoft) — and ops that share their input's
 * scale (MaxPool, Reshape, Flatten, …) run on the integers directly. QuantizeLinear/DequantizeLinear
 * remain only at the boundaries to float ops. A table of converters by op, each matching
 * `DequantizeLinear → op → QuantizeLinear` on the lowered graph.
 */
import { attrs, tensorType, type Attribute, type Graph, type Model, type Node, type Value } from '@modelpass/ir';
import { removeDeadCode } from '@modelpass/transforms';

const MS = 'com.microsoft';

/** A DequantizeLinear's operands: the integers and their constant scale / zero point. */
interface Dequantized {
  readonly integers: Value;
  readonly scale: Value;
  readonly zeroPoint: Value | null;
}

/** A QuantizeLinear reading a node's output: the integers it produces and their parameters. */
interface Quantized {
  readonly node: Node;
  readonly integers: Value;
  readonly scale: Value;
  readonly zeroPoint: Value | null;
}

function dequantized(value: Value | null | undefined): Dequantized | undefined {
  const producer = value?.producer;
  if (!producer || producer.op !== 'onnx.DequantizeLinear' || !producer.input(1).constant) return undefined;
  return { integers: producer.input(0), scale: producer.input(1), zeroPoint: producer.inputs[2] ?? null };
}

function quantizedOutput(node: Node): Quantized | undefined {
  const output = node.output(0);
  if (output.isGraphOutput || output.uses.size !== 1) return undefined;
  const user = [...output.uses][0]!.node;
  if (!user || user.op !== 'onnx.QuantizeLinear' || user.inputs[0] !== output || !user.input(1).constant) return undefined;
  return { node: user, integers: user.output(0), scale: user.input(1), zeroPoint: user.inputs[2] ?? null };
}

function sameConstant(a: Value | null, b: Value | null): boolean {
  if (a === b) return true;
  if (!a?.constant || !b?.constant) return false;
  return a.constant.dtype === b.constant.dtype && a.constant.toNumbers().join() === b.constant.toNumbers().join();
}

/**
 * Replaces `target` (and the QuantizeLinear after it, when given) by `op` computing the same values.
 * The integer node takes over the model's own node name (`/conv1/Conv`, not `/conv1/Conv_quant`):
 * it is that node in integer form, the report names it so, and the file spells no extra suffix.
 */
function replaceWith(graph: Graph, target: Node, q: Quantized | undefined, op: string, inputs: readonly (Value | null)[], attributes: Record<string, Attribute>): Node {
  const result = q ? q.integers : target.output(0);
  const name = result.name;
  const ownName = target.name;
  const node = graph.createNode({ op, name: graph.uniqueNodeName(`${ownName}_quant`), inputs, outputs: [{ name: graph.uniqueName(`${name}_qop`), type: result.type }], attributes, before: q?.node ?? target });
  result.replaceAllUsesWith(node.output(0));
  q?.node.erase();
  target.erase();
  node.output(0).rename(name);
  takeName(graph, node, ownName);
  return node;
}

/** Renames `node` to `name` when no other node has it (moving the node in place re-registers its name). */
function takeName(graph: Graph, node: Node, name: string): void {
  if (graph.uniqueNodeName(name) !== name) return;
  node.name = name;
  if (node.next) node.moveBefore(node.next);
  else if (node.prev) node.moveAfter(node.prev);
}

function copyAttributes(node: Node, drop: readonly string[] = []): Record<string, Attribute> {
  return Object.fromEntries([...node.attributes].filter(([key]) => !drop.includes(key)));
}

type Converter = (node: Node, graph: Graph, opset: number) => boolean;

const unary =
  (op: string, extra: (node: Node, opset: number) => Record<string, Attribute> = () => ({})): Converter =>
  (node, graph, opset) => {
    const x = dequantized(node.inputs[0]);
    const q = quantizedOutput(node);
    if (!x || !q) return false;
    replaceWith(graph, node, q, op, [x.integers, x.scale, x.zeroPoint, q.scale, q.zeroPoint], extra(node, opset));
    return true;
  };

const binary =
  (op: string): Converter =>
  (node, graph) => {
    const a = dequantized(node.inputs[0]);
    const b = dequantized(node.inputs[1]);
    const q = quantizedOutput(node);
    if (!a || !b || !q) return false;
    replaceWith(graph, node, q, op, [a.integers, a.scale, a.zeroPoint, b.integers, b.scale, b.zeroPoint, q.scale, q.zeroPoint], {});
    return true;
  };

/** MaxPool, Reshape, …: the op reads the integers when its input and output share scale and zero point. */
const sharesInput: Converter = (node, graph, opset) => {
  if (node.op === 'onnx.MaxPool' && opset < 12) return false;
  const x = dequantized(node.inputs[0]);
  const q = quantizedOutput(node);
  if (!x || !q || !sameConstant(x.scale, q.scale) || !sameConstant(x.zeroPoint, q.zeroPoint)) return false;
  node.setInput(0, x.integers);
  const result = q.integers;
  const name = result.name;
  result.replaceAllUsesWith(node.output(0));
  q.node.erase();
  const own = node.output(0).type;
  node.output(0).type = result.type.kind === 'tensor' && own.kind === 'tensor' ? tensorType(result.type.dtype, own.shape) : result.type;
  node.output(0).rename(name);
  return true;
};

const CONVERTERS: ReadonlyMap<string, Converter> = new Map<string, Converter>([
  [
    'onnx.Conv',
    (node, graph) => {
      const x = dequantized(node.inputs[0]);
      const w = dequantized(node.inputs[1]);
      const b = node.inputs[2] ? dequantized(node.inputs[2]) : undefined;
      const q = quantizedOutput(node);
      if (!x || !w || !q || (node.inputs[2] && !b)) return false;
      replaceWith(graph, node, q, 'onnx.QLinearConv', [x.integers, x.scale, x.zeroPoint, w.integers, w.scale, w.zeroPoint, q.scale, q.zeroPoint, ...(b ? [b.integers] : [])], copyAttributes(node));
      return true;
    },
  ],
  [
    'onnx.MatMul',
    (node, graph) => {
      const a = dequantized(node.inputs[0]);
      const b = dequantized(node.inputs[1]);
      if (!a || !b) return false;
      const q = quantizedOutput(node);
      if (q) replaceWith(graph, node, q, 'onnx.QLinearMatMul', [a.integers, a.scale, a.zeroPoint, b.integers, b.scale, b.zeroPoint, q.scale, q.zeroPoint], {});
      else replaceWith(graph, node, undefined, `${MS}.MatMulIntegerToFloat`, [a.integers, b.integers, a.scale, b.scale, a.zeroPoint, b.zeroPoint], {});
      return true;
    },
  ],
  [
    'onnx.Gemm',
    (node, graph) => {
      const a = dequantized(node.inputs[0]);
      const b = dequantized(node.inputs[1]);
      const c = node.inputs[2] ? dequantized(node.inputs[2]) : undefined;
      if (!a || !b || (node.inputs[2] && !c)) return false;
      const q = quantizedOutput(node);
      const inputs = [a.integers, a.scale, a.zeroPoint, b.integers, b.scale, b.zeroPoint, c?.integers ?? null, ...(q ? [q.scale, q.zeroPoint] : [])];
      replaceWith(graph, node, q, `${MS}.QGemm`, inputs, copyAttributes(node, ['beta']));
      return true;
    },
  ],
  ['onnx.Add', binary(`${MS}.QLinearAdd`)],
  ['onnx.Mul', binary(`${MS}.QLinearMul`)],
  ['onnx.GlobalAveragePool', unary(`${MS}.QLinearGlobalAveragePool`, () => ({ channels_last: attrs.int(0) }))],
  ['onnx.AveragePool', unary(`${MS}.QLinearAveragePool`, (node) => copyAttributes(node))],
  ['onnx.Sigmoid', unary(`${MS}.QLinearSigmoid`)],
  ['onnx.LeakyRelu', unary(`${MS}.QLinearLeakyRelu`, (node) => copyAttributes(node))],
  ['onnx.Softmax', unary(`${MS}.QLinearSoftmax`, (node, opset) => ({ axis: attrs.int(node.optionalAttr('axis', 'int') ?? (opset >= 13 ? -1 : 1)), opset: attrs.int(opset) }))],
  [
    'onnx.Concat',
    (node, graph) => {
      const inputs = node.inputs.map((input) => dequantized(input));
      const q = quantizedOutput(node);
      if (!q || inputs.some((input) => !input)) return false;
      const operands = inputs.flatMap((input) => [input!.integers, input!.scale, input!.zeroPoint]);
      replaceWith(graph, node, q, `${MS}.QLinearConcat`, [q.scale, q.zeroPoint, ...operands], copyAttributes(node));
      return true;
    },
  ],
  ...['MaxPool', 'Reshape', 'Flatten', 'Transpose', 'Squeeze', 'Unsqueeze', 'Gather', 'Slice', 'Expand', 'Tile', 'Resize'].map((op) => [`onnx.${op}`, sharesInput] as [string, Converter]),
]);

/** Converts a lowered QDQ model (quantize-static's output) to QOperator form in place. */
export function convertToQOperator(model: Model): { converted: number } {
  const graph = model.graph;
  const opset = model.opset('onnx') ?? 0;
  let converted = 0;
  for (const node of [...graph.nodes()]) {
    if (node.graph === null) continue; // erased as the QuantizeLinear of an earlier group
    const converter = CONVERTERS.get(node.op);
    if (converter && converter(node, graph, opset)) converted++;
  }
  if ([...graph.nodes()].some((node) => node.dialect === MS)) model.opsetImports.set(MS, 1);
  removeDeadCode(model);
  return { converted };
}
