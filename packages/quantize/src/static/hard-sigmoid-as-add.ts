/**
 * HardSigmoid between a DequantizeLinear and a QuantizeLinear, run as an integer Add.
 *
 * ORT has no integer HardSigmoid: `DQ → HardSigmoid → Q` runs as three float kernels (MobileNetV3's
 * HardSwish `x·HardSigmoid(x)` and its squeeze-excitation gates: 27 such triples, ~190 tiny kernels
 * with the QLinearMul beside them). But HardSigmoid(v) = clip(αv + β, 0, 1) is an affine map with
 * saturation, and a QuantizeLinear saturates by itself: when its zero point is the dtype's minimum
 * (code qmin means 0) and its top code means at most 1 ((qmax − z)·s ≤ 1), both clips happen in the
 * QuantizeLinear anyway, so for α > 0
 *
 *   Q(HardSigmoid(v), s, z) = sat(round((αv + β)/s) + z) = sat(round((v + β/α)/(s/α)) + z) = Q(v + β/α, s/α, z)
 *
 * exactly (in real arithmetic; the float rounding of the two spellings differs by ulps). The right
 * side is `DQ → Add(DQ(β/α)) → Q` with the QuantizeLinear's scale divided by α, which ORT fuses into
 * one QLinearAdd (its BinarySelector: both inputs dequantized, output quantized). The integer codes
 * and every DequantizeLinear that reads them are unchanged, so the report and accuracy are too.
 *
 * Runs on the lowered QDQ graph (after materialize-qdq), where the pattern is explicit.
 */
import { Tensor, tensorType, type Graph, type Node, type Value } from '@modelpass/ir';
import { constantScalar } from './eligibility.js';

export interface HardSigmoidAsAdd {
  readonly node: string;
  /** The constant added, β/α. */
  readonly shift: number;
}

const EIGHT_BIT: Readonly<Record<string, { min: number; max: number }>> = { uint8: { min: 0, max: 255 }, int8: { min: -128, max: 127 } };

/** The per-tensor 8-bit (dtype, scale, zero point) a DequantizeLinear / QuantizeLinear spells, or undefined. */
function perTensorParams(node: Node, integers: Value | null | undefined): { dtype: string; scale: number; zeroPoint: number } | undefined {
  const dtype = integers?.type.kind === 'tensor' ? integers.type.dtype : undefined;
  if (!dtype || !EIGHT_BIT[dtype]) return undefined;
  const scale = constantScalar(node.inputs[1]);
  const zeroPoint = node.inputs[2] ? constantScalar(node.inputs[2]) : 0;
  if (scale === undefined || zeroPoint === undefined || !(scale > 0)) return undefined;
  return { dtype, scale, zeroPoint };
}

/** The one QuantizeLinear reading `value` whose saturation already does HardSigmoid's clips, or undefined. */
function saturatingQuantize(value: Value): Node | undefined {
  if (value.isGraphOutput || value.uses.size !== 1) return undefined;
  const use = [...value.uses][0]!;
  const quantize = use.node;
  if (!quantize || quantize.op !== 'onnx.QuantizeLinear' || use.index !== 0) return undefined;
  const params = perTensorParams(quantize, quantize.output(0));
  if (!params) return undefined;
  const { min, max } = EIGHT_BIT[params.dtype]!;
  // Code qmin must mean 0 and the top code at most 1 (a hair of float slack on the product).
  if (params.zeroPoint !== min || (max - params.zeroPoint) * params.scale > 1 + 1e-6) return undefined;
  return quantize;
}

/** The constant c as `DequantizeLinear(int, scale, zero point)` of `dtype`, exact: one code of scale |c|. */
function dequantizedConstant(graph: Graph, c: number, dtype: string, before: Node, base: string): Value {
  const code = c === 0 ? 0 : dtype === 'uint8' ? (c > 0 ? 1 : 0) : c > 0 ? 1 : -1;
  const zeroPoint = dtype === 'uint8' && c < 0 ? 1 : 0;
  const integers = graph.addConstant(graph.uniqueName(`${base}_shift_quantized`), Tensor.scalar(dtype as 'uint8', code));
  const scale = graph.addConstant(graph.uniqueName(`${base}_shift_scale`), Tensor.scalar('float32', c === 0 ? 1 : Math.abs(c)));
  const zero = graph.addConstant(graph.uniqueName(`${base}_shift_zero_point`), Tensor.scalar(dtype as 'uint8', zeroPoint));
  const node = graph.createNode({
    op: 'onnx.DequantizeLinear',
    name: graph.uniqueNodeName(`${base}_shift_dequantize`),
    inputs: [integers, scale, zero],
    outputs: [{ name: graph.uniqueName(`${base}_shift`), type: tensorType('float32', []) }],
    before,
  });
  return node.output(0);
}

/** Rewrites every `DQ → HardSigmoid → Q` whose QuantizeLinear saturates as HardSigmoid clips into `DQ → Add → Q` (ORT: QLinearAdd). */
export function hardSigmoidsAsAdd(graph: Graph): HardSigmoidAsAdd[] {
  const rewritten: HardSigmoidAsAdd[] = [];
  for (const node of [...graph.nodesOf('onnx.HardSigmoid')]) {
    const alpha = node.optionalAttr('alpha', 'float') ?? 0.2;
    const beta = node.optionalAttr('beta', 'float') ?? 0.5;
    if (!(alpha > 0) || !Number.isFinite(beta)) continue;
    const input = node.inputs[0];
    const dequantize = input?.producer;
    if (!input || !dequantize || dequantize.op !== 'onnx.DequantizeLinear') continue;
    const inputParams = perTensorParams(dequantize, dequantize.inputs[0]);
    if (!inputParams) continue;
    const output = node.output(0);
    const quantize = saturatingQuantize(output);
    if (!quantize || quantize.output(0).type.kind !== 'tensor' || (quantize.output(0).type as { dtype: string }).dtype !== inputParams.dtype) continue;
    const shift = beta / alpha;
    const scale = constantScalar(quantize.inputs[1])!;
    const constant = dequantizedConstant(graph, shift, inputParams.dtype, node, node.name);
    const add = graph.createNode({
      op: 'onnx.Add',
      name: graph.uniqueNodeName(`${node.name}_as_add`),
      inputs: [input, constant],
      outputs: [{ name: graph.uniqueName(`${output.name}_shifted`), type: output.type }],
      before: node,
    });
    // The QuantizeLinear's own scale initializer may be shared: give it a new one, s/α.
    const oldScale = quantize.input(1);
    quantize.setInput(1, graph.addConstant(graph.uniqueName(`${output.name}_shifted_scale`), Tensor.scalar('float32', scale / alpha)));
    if (!oldScale.hasUses && !oldScale.isGraphOutput) graph.removeConstant(oldScale);
    quantize.setInput(0, add.output(0));
    node.erase();
    rewritten.push({ node: node.name, shift });
  }
  return rewritten;
}
