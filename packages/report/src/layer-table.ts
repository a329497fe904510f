/**
 * `layerTable(after, { before })`: the report's per-layer rows for every weighted node (Conv,
 * ConvTranspose, Gemm, MatMul) of the model after a command, derived from the models themselves so
 * that any pass — ours or a plugin's — fills them without reporting anything:
 * - sparsity: exact zeros of the (dequantized) weight;
 * - channels: the weight's output-channel extent before and after, for nodes matched by name;
 * - quantization: a weight read through `DequantizeLinear` (QDQ) of a constant, or a constant with a
 *   `quant<>` type: its dtype, bits, scale/zero point, and against the float weight the node had
 *   before, SQNR (10·log10(Σw²/Σ(w−ŵ)²), dB) and cosine — only when that float weight, quantized
 *   with the same parameters, gives exactly the stored integers (so a weight that another rewrite
 *   changed first, e.g. a folded BatchNormalization, is not compared with the wrong original).
 */
import {
  dequantizeLinear,
  quantizeLinear,
  dtypeInfo,
  Tensor,
  weightOutputAxis,
  type Model,
  type Node,
  type QuantParams,
  type Value,
} from '@modelpass/ir';
import type { LayerQuantization, LayerRecord } from './schema.js';
import { reportNumber } from './validate.js';
import { reportOpName } from './describe-model.js';

export const WEIGHTED_OPS: readonly string[] = ['onnx.Conv', 'onnx.ConvTranspose', 'onnx.Gemm', 'onnx.MatMul'];

/** Scales and zero points kept per layer (the rest are counted in `scaleCount`). */
const MAX_SCALES = 64;

export interface LayerTableOptions {
  /** The model before the command, to compare channels and quantization error by node name. */
  readonly before?: Model;
  /** FLOPs per node name (from `analyzeCost`). */
  readonly flops?: ReadonlyMap<string, number>;
}

interface ResolvedWeight {
  readonly value: Value;
  /** The float weight the node computes with. */
  readonly real: () => Tensor | undefined;
  readonly shape: readonly number[];
  readonly quantization?: Omit<LayerQuantization, 'sqnrDb' | 'cosine'>;
  /** Quantized weights: whether `source` quantized with these parameters gives exactly the stored integers. */
  readonly quantizes?: (source: Tensor) => boolean;
  /** Sparse initializers: the fraction of the dense weight that is zero (not stored, or stored as 0). */
  readonly sparsity?: () => number;
}

function constantOf(value: Value | null | undefined): Tensor | undefined {
  if (!value) return undefined;
  if (value.constant) return value.constant;
  const producer = value.producer;
  if (producer?.op === 'onnx.Constant') {
    const attribute = producer.getAttribute('value');
    if (attribute?.kind === 'tensor') return attribute.value;
  }
  if (producer?.op === 'onnx.Identity') return constantOf(producer.inputs[0]);
  return undefined;
}

function quantSummary(dtype: Tensor['dtype'], scale: readonly number[], zeroPoint: readonly number[], axis: number | undefined): Omit<LayerQuantization, 'sqnrDb' | 'cosine'> {
  return {
    dtype,
    bits: dtypeInfo(dtype).bits,
    ...(axis !== undefined ? { axis } : {}),
    scale: scale.slice(0, MAX_SCALES),
    zeroPoint: zeroPoint.slice(0, MAX_SCALES),
    scaleCount: scale.length,
  };
}

function dequantizeWithParams(q: Tensor, quant: QuantParams): Tensor {
  const perAxis = quant.axis !== undefined;
  const scale = Tensor.fromValues('float32', perAxis ? [quant.scale.length] : [], Float32Array.from(quant.scale));
  const zeroPoint = Tensor.fromValues(q.dtype, perAxis ? [quant.zeroPoint.length] : [], quant.zeroPoint.map(Number) as unknown as number[]);
  return dequantizeLinear(q, scale, zeroPoint, perAxis ? { axis: quant.axis! } : {});
}

function resolveWeight(node: Node): ResolvedWeight | undefined {
  const value = node.inputs[1];
  if (!value) return undefined;
  const sparse = value.sparseConstant;
  if (sparse && !value.constant) {
    // An ONNX sparse initializer (prune-magnitude's sparse-initializers=true): the dense shape is its
    // dims; every element it does not store is zero.
    const elements = sparse.dims.reduce((n, d) => n * d, 1);
    return {
      value,
      shape: sparse.dims,
      real: () => undefined,
      sparsity: () => (elements === 0 ? 0 : 1 - nonZeroCount(sparse.values.toNumbers()) / elements),
    };
  }
  const direct = constantOf(value);
  if (direct) {
    const quant = direct.quant ?? (value.type.kind === 'tensor' ? value.type.quant : undefined);
    if (quant) {
      return {
        value,
        shape: direct.shape,
        real: () => dequantizeWithParams(direct, quant),
        quantization: quantSummary(direct.dtype, quant.scale, quant.zeroPoint, quant.axis),
        quantizes: (source) => sameIntegers(direct, () => requantizeWithParams(source, direct.dtype, quant)),
      };
    }
    return { value, shape: direct.shape, real: () => (direct.dtype === 'float32' ? direct : undefined) };
  }
  const dq = value.producer;
  if (dq?.op !== 'onnx.DequantizeLinear') return undefined;
  const q = constantOf(dq.inputs[0]);
  const scale = constantOf(dq.inputs[1]);
  const zeroPoint = constantOf(dq.inputs[2]);
  if (!q || !scale) return undefined;
  const axisAttribute = dq.optionalAttr('axis', 'int');
  const perAxis = scale.size > 1 || scale.rank > 0;
  const axis = perAxis ? (axisAttribute ?? 1) : undefined;
  const normalizedAxis = axis !== undefined && axis < 0 ? axis + q.rank : axis;
  return {
    value,
    shape: q.shape,
    real: () => dequantizeLinear(q, scale, zeroPoint, normalizedAxis !== undefined ? { axis: normalizedAxis } : {}),
    quantizes: (source) =>
      sameIntegers(q, () => quantizeLinear(source, scale, zeroPoint ?? Tensor.fromValues(q.dtype, scale.shape, new Array<number>(scale.size).fill(0)), normalizedAxis !== undefined ? { axis: normalizedAxis } : {})),
    quantization: quantSummary(q.dtype, scale.toNumbers(), zeroPoint ? zeroPoint.toNumbers() : new Array<number>(scale.size).fill(0), normalizedAxis),
  };
}

function requantizeWithParams(source: Tensor, dtype: Tensor['dtype'], quant: QuantParams): Tensor {
  const perAxis = quant.axis !== undefined;
  const scale = Tensor.fromValues('float32', perAxis ? [quant.scale.length] : [], Float32Array.from(quant.scale));
  const zeroPoint = Tensor.fromValues(dtype, perAxis ? [quant.zeroPoint.length] : [], quant.zeroPoint.map(Number) as unknown as number[]);
  return quantizeLinear(source, scale, zeroPoint, perAxis ? { axis: quant.axis! } : {});
}

/** Whether `requantized()` holds exactly the integers of `q` (false when it cannot be computed). */
function sameIntegers(q: Tensor, requantized: () => Tensor): boolean {
  try {
    const r = requantized();
    if (r.size !== q.size || r.shape.join(',') !== q.shape.join(',')) return false;
    const a = q.toNumbers();
    const b = r.toNumbers();
    return a.every((x, i) => x === b[i]);
  } catch {
    return false;
  }
}

function nonZeroCount(values: readonly number[]): number {
  let count = 0;
  for (const v of values) if (v !== 0) count++;
  return count;
}

function zerosFraction(values: ArrayLike<number>): number {
  if (values.length === 0) return 0;
  let zeros = 0;
  for (let i = 0; i < values.length; i++) if (values[i] === 0) zeros++;
  return zeros / values.length;
}

/** SQNR in dB and cosine of `approx` against `exact` (same length). */
export function quantizationError(exact: ArrayLike<number>, approx: ArrayLike<number>): { sqnrDb: number; cosine: number } {
  let signal = 0;
  let noise = 0;
  let dot = 0;
  let approxNorm = 0;
  for (let i = 0; i < exact.length; i++) {
    const e = exact[i]!;
    const a = approx[i]!;
    signal += e * e;
    noise += (e - a) * (e - a);
    dot += e * a;
    approxNorm += a * a;
  }
  const sqnrDb = noise === 0 ? Infinity : 10 * Math.log10(signal / noise);
  const cosine = signal === 0 || approxNorm === 0 ? (signal === approxNorm ? 1 : 0) : dot / Math.sqrt(signal * approxNorm);
  return { sqnrDb, cosine };
}

function nodesByName(model: Model | undefined): Map<string, Node> {
  const byName = new Map<string, Node>();
  if (model) for (const node of model.graph.allNodes()) byName.set(node.name, node);
  return byName;
}

function channelCount(node: Node, shape: readonly number[]): number | undefined {
  const axis = weightOutputAxis(node);
  if (axis === undefined || axis >= shape.length) return undefined;
  const group = node.op === 'onnx.ConvTranspose' ? (node.optionalAttr('group', 'int') ?? 1) : 1;
  return shape[axis]! * group;
}

export function layerTable(after: Model, options: LayerTableOptions = {}): LayerRecord[] {
  const beforeNodes = nodesByName(options.before);
  const wanted = new Set(WEIGHTED_OPS);
  const rows: LayerRecord[] = [];
  for (const node of after.graph.allNodes()) {
    if (!wanted.has(node.op)) continue;
    const weight = resolveWeight(node);
    const flops = options.flops?.get(node.name);
    const base = { node: node.name, op: reportOpName(node), ...(flops !== undefined ? { flops } : {}) };
    if (!weight) {
      rows.push(base);
      continue;
    }
    const real = weight.real();
    const row: { -readonly [K in keyof LayerRecord]: LayerRecord[K] } = {
      ...base,
      weight: weight.value.name,
      weightShape: [...weight.shape],
      parameters: weight.shape.reduce((n, d) => n * d, 1),
    };
    if (real) row.sparsity = zerosFraction(real.data() as ArrayLike<number>);
    else if (weight.sparsity) row.sparsity = weight.sparsity();
    const previous = beforeNodes.get(node.name);
    const previousWeight = previous?.op === node.op ? resolveWeight(previous) : undefined;
    const channelsAfter = channelCount(node, weight.shape);
    const channelsBefore = previous && previousWeight ? channelCount(previous, previousWeight.shape) : undefined;
    if (channelsAfter !== undefined && channelsBefore !== undefined) row.channels = { before: channelsBefore, after: channelsAfter };
    if (weight.quantization) {
      const exact = previousWeight && !previousWeight.quantization ? previousWeight.real() : undefined;
      // Only when the float weight before is what was quantized (not, e.g., a weight BN was folded into first).
      let error: { sqnrDb: number; cosine: number } | undefined;
      if (exact && real && exact.size === real.size && weight.quantizes?.(exact)) error = quantizationError(exact.data() as ArrayLike<number>, real.data() as ArrayLike<number>);
      row.quantization = { ...weight.quantization, ...(error ? { sqnrDb: reportNumber(error.sqnrDb), cosine: error.cosine } : {}) };
    }
    rows.push(row);
  }
  return rows;
}
