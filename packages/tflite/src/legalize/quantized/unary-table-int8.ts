import { attrs, Builder, isTensorType, Tensor, tensorType, type Graph, type Node, type QuantParams, type TensorType, type Value } from '@modelpass/ir';
import { constantOf } from '../constant-values.js';
import { quantOf } from './quant-values.js';

/**
 * A chain of int8 elementwise ops that reads one int8 value `x` along two paths — HardSwish as quantize-static writes
 * it, `x · relu6(x + 3) / 6` (Add → Mul(x, ·) → Mul(1/6), each output quantized), Swish-like `x · f(x)`, `x · x` —
 * computes a function of x's code alone: 256 int8 codes in, one int8 code out (also x · HardSigmoid(x), the HardSwish
 * of quantize-static's default path). TFLite 2.9 runs each op with its
 * own fixed-point requantization: MultiplyByQuantizedMultiplier rounds twice (the doubling high multiply, then the
 * divide by 2^shift, half away from zero), so the MUL of x by relu6(x + 3) lands one step off ONNX Runtime's
 * dequantize → float32 multiply → quantize (half to even) wherever the product is within 2^-shift-1 of a half step
 * (PaddleOCR mobile v2 cls: code 7 of the first HardSwish is 20.4978 steps, TFLite 21, ORT 20 — one step on 2 % of
 * that layer's elements for a smooth image, which the ~50 layers after it spread). Here the chain becomes a table
 * of its 256 results computed with ONNX Runtime's QDQ semantics (float32 reals of each code, float32 op,
 * round half to even, saturate, dequantize for the next op): CAST int8 → int32 and GATHER of the int8 table by
 * those codes (negative ones from its end: TFLite's lowering floor-mods them by 256), its output x's shape with the
 * chain's output parameters. The same integers as ORT's unfused QDQ model, by
 * construction; TFLite's GATHER copies codes.
 *
 * Matched after the uint8 shift (every activation int8): a node joins the chain when it is an Add, Sub, Mul, Div,
 * Max, Min, Relu, Clip, HardSigmoid (quantize-static's default HardSwish is x · HardSigmoid(x)) or Sigmoid (SiLU
 * x · sigmoid(x): TFLite's LOGISTIC writes 1/256 steps, requantized to the Sigmoid's scale, then MUL — one step off ORT on
 * 37 of 256 codes of efficientnet_b0's first SiLU; tools/bench/tflite/RESULTS-int8.md s19) whose inputs are x,
 * chain outputs or scalar constants, and whose output is int8 per tensor
 * of x's shape; the chain must have one value read outside it and a Mul of two chain values — the product of two
 * activations, whose requantization is where the double rounding shows (a single op on x and constants, or an Add
 * of x and Relu(x), keeps its int8 kernels).
 */

export const ELEMENTWISE = new Set(['onnx.Add', 'onnx.Sub', 'onnx.Mul', 'onnx.Div', 'onnx.Max', 'onnx.Min', 'onnx.Relu', 'onnx.Clip', 'onnx.HardSigmoid', 'onnx.Sigmoid']);

export function int8PerTensor(value: Value | null | undefined): QuantParams | undefined {
  const quant = quantOf(value);
  if (!value || !quant || quant.axis !== undefined || quant.scale.length !== 1 || !isTensorType(value.type) || value.type.dtype !== 'int8') return undefined;
  return quant.scale[0]! > 0 ? quant : undefined;
}

/** The float32 real of a scalar constant (a quant<> one dequantized as ORT's DequantizeLinear does), or undefined. */
export function scalarReal(value: Value): number | undefined {
  const tensor = constantOf(value);
  if (!tensor || tensor.size !== 1) return undefined;
  const raw = Number(tensor.toNumbers()[0]);
  const quant = tensor.quant;
  if (quant) return Math.fround((raw - quant.zeroPoint[0]!) * Math.fround(quant.scale[0]!));
  return tensor.dtype === 'float32' ? raw : undefined;
}

const sameShape = (a: Value, b: Value): boolean => JSON.stringify((a.type as TensorType).shape) === JSON.stringify((b.type as TensorType).shape);

/** ONNX QuantizeLinear of a float32 real to int8 (round half to even, saturate) — the code. */
export function quantizeCode(real: number, quant: QuantParams): number {
  const scaled = Math.fround(real / Math.fround(quant.scale[0]!));
  const floor = Math.floor(scaled);
  const diff = scaled - floor;
  const rounded = diff > 0.5 || (diff === 0.5 && floor % 2 !== 0) ? floor + 1 : floor;
  return Math.max(-128, Math.min(127, rounded + quant.zeroPoint[0]!));
}
export const dequantizeCode = (code: number, quant: QuantParams): number => Math.fround((code - quant.zeroPoint[0]!) * Math.fround(quant.scale[0]!));

/** One op on float32 reals, as ONNX Runtime computes it in float32; undefined when it has no such form here. */
export function applyOp(node: Node, a: number, b: number | undefined): number | undefined {
  switch (node.op) {
    case 'onnx.Add': return Math.fround(a + b!);
    case 'onnx.Sub': return Math.fround(a - b!);
    case 'onnx.Mul': return Math.fround(a * b!);
    case 'onnx.Div': return Math.fround(a / b!);
    case 'onnx.Max': return Math.max(a, b!);
    case 'onnx.Min': return Math.min(a, b!);
    case 'onnx.Relu': return Math.max(a, 0);
    case 'onnx.HardSigmoid': {
      // ORT: max(0, min(1, alpha·x + beta)) in float32, the product rounded before the sum.
      const alpha = Math.fround(node.optionalAttr('alpha', 'float') ?? 0.2);
      const beta = Math.fround(node.optionalAttr('beta', 'float') ?? 0.5);
      return Math.max(0, Math.min(1, Math.fround(Math.fround(alpha * a) + beta)));
    }
    // ORT: 1/(1 + e^−x) in float32 (QLinearSigmoid builds its table from the same function of each dequantized code).
    case 'onnx.Sigmoid': return Math.fround(1 / (1 + Math.exp(-a)));
    default: return undefined;
  }
}

interface Chain {
  readonly nodes: Node[];
  readonly output: Value;
}

/** The chain of elementwise int8 ops computing a function of `x`'s code alone, or undefined. */
function chainFrom(x: Value): Chain | undefined {
  const inside = new Set<Value>([x]);
  const nodes: Node[] = [];
  let grew = true;
  while (grew) {
    grew = false;
    for (const value of [...inside]) {
      for (const user of value.users) {
        if (nodes.includes(user) || !ELEMENTWISE.has(user.op) || user.outputs.length !== 1) continue;
        const output = user.outputs[0];
        if (!output || !int8PerTensor(output) || !sameShape(output, x)) continue;
        // Max/Min are variadic in ONNX: two operands only here, as the other binary ops; Relu/HardSigmoid one.
        const arity = user.op === 'onnx.Relu' || user.op === 'onnx.HardSigmoid' || user.op === 'onnx.Sigmoid' ? 1 : user.op === 'onnx.Clip' ? user.inputs.length : 2;
        if (user.inputs.length !== arity || user.inputs.length > 3) continue;
        const data = user.op === 'onnx.Clip' ? user.inputs.slice(0, 1) : user.inputs;
        const bounds = user.op === 'onnx.Clip' ? user.inputs.slice(1) : [];
        if (!data.every((input) => !!input && (inside.has(input) || scalarReal(input) !== undefined))) continue;
        if (!bounds.every((bound) => !bound || scalarReal(bound) !== undefined)) continue;
        nodes.push(user);
        inside.add(output);
        grew = true;
      }
    }
  }
  if (!nodes.some((node) => node.op === 'onnx.Mul' && node.inputs.filter((input) => !!input && inside.has(input)).length >= 2)) return undefined;
  const members = new Set(nodes);
  const escaping = nodes.map((node) => node.outputs[0]!).filter((value) => value.isGraphOutput || value.users.some((user) => !members.has(user)));
  if (escaping.length !== 1) return undefined;
  const graph = x.graph ?? nodes[0]!.graph!;
  const order = new Map(graph.nodeList().map((node, i) => [node, i] as const));
  nodes.sort((a, b) => order.get(a)! - order.get(b)!);
  // Every node's output must be read (by the chain or outside): the last one in order is the escaping value.
  if (nodes[nodes.length - 1]!.outputs[0] !== escaping[0]) return undefined;
  return { nodes, output: escaping[0]! };
}

/** The chain's int8 result for each of the 256 codes of x, from −128 up, or undefined if a real is not finite. */
function tableOf(x: Value, chain: Chain): number[] | undefined {
  const xQuant = int8PerTensor(x)!;
  const table: number[] = [];
  for (let code = -128; code <= 127; code++) {
    const reals = new Map<Value, number>([[x, dequantizeCode(code, xQuant)]]);
    let last = 0;
    for (const node of chain.nodes) {
      const read = (input: Value | null | undefined) => (input ? reals.get(input) ?? scalarReal(input) : undefined);
      let result: number | undefined;
      if (node.op === 'onnx.Clip') {
        const low = read(node.inputs[1]) ?? -Infinity;
        const high = read(node.inputs[2]) ?? Infinity;
        result = Math.min(Math.max(read(node.inputs[0])!, low), high);
      } else {
        result = applyOp(node, read(node.inputs[0])!, node.inputs[1] ? read(node.inputs[1]) : undefined);
      }
      if (result === undefined || !Number.isFinite(result)) return undefined;
      const quant = int8PerTensor(node.outputs[0])!;
      last = quantizeCode(result, quant);
      reals.set(node.outputs[0]!, dequantizeCode(last, quant));
    }
    table.push(last);
  }
  return table;
}

/** Rewrites every such chain into Cast → Gather of its 256-code table; returns how many. */
export function unaryChainsAsInt8Tables(graph: Graph): number {
  let count = 0;
  const roots = [...graph.inputs, ...graph.nodeList().flatMap((node) => node.outputs.filter((v): v is Value => !!v))];
  for (const x of roots) {
    if (x.isConstant || !int8PerTensor(x) || !x.graph) continue;
    const chain = chainFrom(x);
    if (!chain) continue;
    const table = tableOf(x, chain);
    if (!table) continue;
    const last = chain.nodes[chain.nodes.length - 1]!;
    const y = chain.output;
    const yType = y.type as TensorType;
    const shape = yType.shape;
    const name = last.name;
    const at = Builder.before(chain.nodes[0]!);
    // The codes as indices: 0…127 index the first half, −128…−1 (Gather's negative indices) the second.
    const codes = at.op1('onnx.Cast', [x], { to: attrs.int(6) }, { types: [tensorType('int32', shape)], name: `${name}_table_codes` });
    const ordered = [...table.slice(128), ...table.slice(0, 128)];
    const values = graph.addConstant(graph.uniqueName(`${name}_table`), Tensor.fromValues('int8', [256], ordered, yType.quant));
    const result = at.op1('onnx.Gather', [values, codes], { axis: attrs.int(0) }, { types: [yType], name: `${name}_table_gather` });
    y.replaceAllUsesWith(result);
    for (const node of [...chain.nodes].reverse()) node.erase();
    count++;
  }
  return count;
}
