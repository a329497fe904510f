import { attrs, Builder, isTensorType, Tensor, tensorType, type Graph, type Node, type TensorType, type Value } from '@modelpass/ir';
import { applyOp, dequantizeCode, ELEMENTWISE, int8PerTensor, quantizeCode, scalarReal } from './unary-table-int8.js';

/**
 * A float island on one int8 value: `x (int8) → DequantizeLinear → elementwise float ops → QuantizeLinear → y (int8)`,
 * where every float value inside is read only inside (quantize-static's defaults keep an activation float when it is a
 * graph output: SSDlite's two returned HardSwishes, `x · HardSigmoid(x)` at opset 13; returned-activations.ts makes
 * the returned value the DequantizeLinear of y, so the island's result is read as y's integers alone). The island
 * computes a function of x's code: 256 codes in, one code out. ONNX Runtime runs it in float32 and quantizes the result
 * (half to even); here it becomes that function's table — CAST int8 → int32 and GATHER of the 256 results, with y's
 * parameters — instead of DEQUANTIZE, float kernels and QUANTIZE: the model's int8 path is int8 through, with ORT's
 * integers by construction (the same float32 reals of each code, the same float32 ops, the same rounding).
 *
 * The ops: unary-table-int8.ts's (Add, Sub, Mul, Div, Max, Min, Relu, Clip, HardSigmoid, Sigmoid), two operands at
 * most, each a value of the island or a scalar constant; every output float32 of x's shape. Run after the uint8
 * shift (x and y are int8). Returns the float ops it replaced (DequantizeLinear/QuantizeLinear aside).
 */

interface Island {
  /** The elementwise float ops, in graph order. */
  readonly nodes: Node[];
  /** The DequantizeLinear nodes of x whose every reader is in the island. */
  readonly dequantizers: Node[];
  readonly quantize: Node;
}

const isFloatOfShape = (value: Value | null | undefined, x: Value): value is Value =>
  !!value && isTensorType(value.type) && value.type.dtype === 'float32' && !value.type.quant && isTensorType(x.type) && JSON.stringify(value.type.shape) === JSON.stringify(x.type.shape);

/** The elementwise ops an island may hold: one or two data operands (Clip: one, with scalar bounds). */
function joins(node: Node, inside: ReadonlySet<Value>): boolean {
  if (!ELEMENTWISE.has(node.op) || node.outputs.length !== 1) return false;
  const unary = node.op === 'onnx.Relu' || node.op === 'onnx.HardSigmoid' || node.op === 'onnx.Sigmoid';
  if (node.op === 'onnx.Clip') {
    return !!node.inputs[0] && inside.has(node.inputs[0]) && node.inputs.length <= 3 && node.inputs.slice(1).every((bound) => !bound || scalarReal(bound) !== undefined);
  }
  if (node.inputs.length !== (unary ? 1 : 2)) return false;
  return node.inputs.every((input) => !!input && (inside.has(input) || scalarReal(input) !== undefined)) && node.inputs.some((input) => !!input && inside.has(input));
}

/** The island that starts at x's DequantizeLinear nodes, or undefined. */
function islandFrom(x: Value): Island | undefined {
  const starts = x.users.filter((user) => user.op === 'onnx.DequantizeLinear' && user.inputs[0] === x && isFloatOfShape(user.outputs[0], x));
  if (starts.length === 0) return undefined;
  const inside = new Set<Value>(starts.map((node) => node.output(0)));
  const nodes: Node[] = [];
  const quantizers = new Set<Node>();
  let grew = true;
  while (grew) {
    grew = false;
    for (const value of [...inside]) {
      for (const user of value.users) {
        if (nodes.includes(user) || quantizers.has(user)) continue;
        if (user.op === 'onnx.QuantizeLinear' && user.inputs[0] === value && int8PerTensor(user.outputs[0])) {
          quantizers.add(user);
          continue;
        }
        if (!joins(user, inside) || !isFloatOfShape(user.outputs[0], x)) continue;
        nodes.push(user);
        inside.add(user.output(0));
        grew = true;
      }
    }
  }
  if (nodes.length === 0 || quantizers.size !== 1) return undefined;
  const [quantize] = [...quantizers] as [Node];
  const result = quantize.input(0);
  const members = new Set<Node>([...nodes, quantize]);
  // Every float value of the island is read inside only (the result by the QuantizeLinear alone), and none is returned.
  for (const node of nodes) {
    const output = node.output(0);
    if (output.isGraphOutput || output.users.some((user) => !members.has(user))) return undefined;
    if (output === result && output.users.some((user) => user !== quantize)) return undefined;
  }
  if (!nodes.some((node) => node.output(0) === result)) return undefined;
  const dequantizers = starts.filter((node) => !node.output(0).isGraphOutput && node.output(0).users.every((user) => members.has(user)));
  const graph = x.graph!;
  const order = new Map(graph.nodeList().map((node, i) => [node, i] as const));
  nodes.sort((a, b) => order.get(a)! - order.get(b)!);
  return { nodes, dequantizers, quantize };
}

/** The island's int8 result for each of x's 256 codes, from −128 up, as ORT computes it; undefined if a real is not finite. */
function tableOf(x: Value, island: Island): number[] | undefined {
  const xQuant = int8PerTensor(x)!;
  const yQuant = int8PerTensor(island.quantize.outputs[0])!;
  const dequantized = new Set(x.users.filter((user) => user.op === 'onnx.DequantizeLinear').map((node) => node.output(0)));
  const table: number[] = [];
  for (let code = -128; code <= 127; code++) {
    const real = dequantizeCode(code, xQuant);
    const reals = new Map<Value, number>();
    const read = (input: Value | null | undefined): number | undefined => (input ? (dequantized.has(input) ? real : reals.get(input) ?? scalarReal(input)) : undefined);
    for (const node of island.nodes) {
      const result =
        node.op === 'onnx.Clip'
          ? Math.min(Math.max(read(node.inputs[0])!, read(node.inputs[1]) ?? -Infinity), read(node.inputs[2]) ?? Infinity)
          : applyOp(node, read(node.inputs[0])!, node.inputs[1] ? read(node.inputs[1]) : undefined);
      if (result === undefined || !Number.isFinite(result)) return undefined;
      reals.set(node.output(0), result);
    }
    table.push(quantizeCode(reals.get(island.quantize.input(0))!, yQuant));
  }
  return table;
}

/** Rewrites every float island on one int8 value into CAST → GATHER of its table; returns the float ops removed. */
export function floatIslandsAsInt8Tables(graph: Graph): Node[] {
  const removed: Node[] = [];
  const roots = [...graph.inputs, ...graph.nodeList().flatMap((node) => node.outputs.filter((v): v is Value => !!v))];
  for (const x of roots) {
    if (x.isConstant || !x.graph || !int8PerTensor(x)) continue;
    const island = islandFrom(x);
    if (!island) continue;
    const table = tableOf(x, island);
    if (!table) continue;
    const y = island.quantize.output(0);
    if (y.isGraphOutput) continue;
    const yType = y.type as TensorType;
    const name = island.nodes[island.nodes.length - 1]!.name;
    const at = Builder.before(island.quantize);
    const codes = at.op1('onnx.Cast', [x], { to: attrs.int(6) }, { types: [tensorType('int32', yType.shape)], name: `${name}_table_codes` });
    // 0…127 index the first half, −128…−1 (Gather's negative indices) the second.
    const values = graph.addConstant(graph.uniqueName(`${name}_table`), Tensor.fromValues('int8', [256], [...table.slice(128), ...table.slice(0, 128)], yType.quant));
    const result = at.op1('onnx.Gather', [values, codes], { axis: attrs.int(0) }, { types: [yType], name: `${name}_table_gather` });
    y.replaceAllUsesWith(result);
    island.quantize.erase();
    for (const node of [...island.nodes].reverse()) node.erase();
    for (const node of island.dequantizers) node.erase();
    removed.push(...island.nodes);
  }
  return removed;
}
