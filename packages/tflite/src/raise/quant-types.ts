/**
 * Quantized tensors on the way from TFLite to ONNX. The raise keeps TFLite's quantization as IR
 * quant<> types (the one fact for both formats, DESIGN.md); ONNX spells them as QuantizeLinear /
 * DequantizeLinear, which `materialize-qdq` writes at the end. What ONNX's QDQ cannot spell is
 * settled here first: int64 biases (16x8 kernels) and sub-byte weights become float32 constants
 * (exact: scale · (q − zero point)), 16-bit activations need opset 21.
 */
import { ModelpassError, Tensor, type DiagnosticInit, type Graph, type Model, type Node, type OpRegistry, type QuantParams, type TensorType } from '@modelpass/ir';
import { preservedAnalyses, type OptionSpecs, type PassContext } from '@modelpass/pass-manager';
import { materializeQdq } from '@modelpass/transforms';

/** Storage dtypes a QuantizeLinear can produce (computed values). */
const COMPUTED_STORAGE = new Set(['int8', 'uint8', 'int16', 'uint16']);
/** …and a DequantizeLinear can read from a constant (int32: biases, zero point 0). */
const CONSTANT_STORAGE = new Set([...COMPUTED_STORAGE, 'int32']);
/** The ONNX opset whose QuantizeLinear/DequantizeLinear take 16-bit integers. */
export const INT16_QDQ_OPSET = 21;

function quantOf(type: TensorType | undefined): QuantParams | undefined {
  return type?.kind === 'tensor' ? type.quant : undefined;
}

function graphsOf(graph: Graph): Graph[] {
  const graphs = [graph];
  for (const node of graph.nodes()) for (const region of node.subgraphs) graphs.push(...graphsOf(region));
  return graphs;
}

/** Whether ONNX QDQ can spell a quantized constant as it is (else it is dequantized to float32). */
function spellableConstant(tensor: Tensor): boolean {
  const quant = tensor.quant!;
  if (!CONSTANT_STORAGE.has(tensor.dtype)) return false;
  return tensor.dtype !== 'int32' || quant.zeroPoint.every((z) => z === 0);
}

/** The reals of a quantized tensor: `scale · (q − zero point)` per tensor or per channel, rounded to float32. */
export function dequantizeTensor(tensor: Tensor): Tensor {
  const { scale, zeroPoint, axis } = tensor.quant!;
  const dims = tensor.shape;
  const inner = axis === undefined ? 1 : dims.slice(axis + 1).reduce((n, d) => n * d, 1);
  const channels = axis === undefined ? 1 : dims[axis]!;
  const values = tensor.toNumbers().map((q, i) => {
    const c = axis === undefined ? 0 : Math.floor(i / inner) % channels;
    return Math.fround(scale[c]! * (q - zeroPoint[c]!));
  });
  return Tensor.fromValues('float32', dims, values);
}

/** Quantized constants ONNX cannot spell (int64 biases, int4 weights…) become their float32 reals. Returns how many. */
export function dequantizeUnspellableConstants(graph: Graph): number {
  let count = 0;
  for (const constant of [...graph.constants]) {
    const tensor = constant.constant;
    if (!tensor?.quant || spellableConstant(tensor)) continue;
    constant.constant = dequantizeTensor(tensor);
    constant.type = { kind: 'tensor', dtype: 'float32', shape: tensor.shape };
    count++;
  }
  return count;
}

/** Computed quantized values ONNX cannot produce (a QuantizeLinear of int32, int4…), per node, before anything changes. */
export function unspellableQuantValues(model: Model): DiagnosticInit[] {
  const problems: DiagnosticInit[] = [];
  for (const graph of graphsOf(model.graph)) {
    for (const node of graph.nodes()) {
      for (const output of node.outputs) {
        const type = output?.type.kind === 'tensor' ? output.type : undefined;
        if (!type?.quant || COMPUTED_STORAGE.has(type.dtype)) continue;
        problems.push({
          reason: `output '${output!.name}' is a quantized ${type.dtype} tensor, which ONNX's QuantizeLinear cannot produce (int8, uint8, int16 or uint16 expected)`,
          location: node.location,
          source: '@modelpass/tflite',
          code: 'tflite/unraisable',
        });
      }
    }
  }
  return problems;
}

/** 21 when a computed value or graph input is quantized to 16 bits (ONNX's int16 QuantizeLinear), else `requested`. */
export function opsetForQuantTypes(model: Model, requested: number): number {
  for (const graph of graphsOf(model.graph)) {
    const values = [...graph.inputs, ...graph.constants, ...[...graph.nodes()].flatMap((node: Node) => node.outputs)];
    for (const value of values) {
      const type = value?.type.kind === 'tensor' ? value.type : undefined;
      if (quantOf(type) && (type!.dtype === 'int16' || type!.dtype === 'uint16')) return Math.max(requested, INT16_QDQ_OPSET);
    }
  }
  return requested;
}

export interface QuantLoweringCounts {
  readonly quantize: number;
  readonly dequantize: number;
}

/** Runs materialize-qdq on the raised model: every quant<> type becomes ONNX QuantizeLinear/DequantizeLinear. */
export function materializeQuantTypes(model: Model, registry: OpRegistry): QuantLoweringCounts {
  const counts = new Map<string, number>();
  const context: PassContext<OptionSpecs> = {
    options: { bumpOpset: false } as PassContext<OptionSpecs>['options'],
    registry,
    passName: 'raise-tflite/materialize-qdq',
    patterns: [],
    statistic: (name, delta = 1) => void counts.set(name, (counts.get(name) ?? 0) + delta),
    analysis: (definition) => definition.compute(model, { registry }),
    report: () => {},
    debug: () => {},
    signal: new AbortController().signal,
    preserveAll: () => preservedAnalyses.all(),
    preserveNone: () => preservedAnalyses.none(),
    preserve: (names) => preservedAnalyses.only(names),
  };
  const result = materializeQdq.run(model, context as never);
  if (result instanceof Promise) throw new ModelpassError({ reason: 'materialize-qdq unexpectedly ran asynchronously', source: '@modelpass/tflite' });
  return { quantize: counts.get('quantize-inserted') ?? 0, dequantize: counts.get('dequantize-inserted') ?? 0 };
}
