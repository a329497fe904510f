/**
 * The per-layer report of quantize-static: for every quantized tensor its dtype, scale, zero point,
 * SQNR (dB) and cosine against the float model — activations measured on calibration data in ONNX
 * Runtime (the float model and the quantized one run on the same batches), weights and biases
 * offline — plus the nodes quantized and those left float with the reason.
 */
import { dequantizeLinear, Tensor, type Model } from '@modelpass/ir';
import { decodeOnnx } from '@modelpass/onnx';
import { ActivationCollector } from '../calibration/activation-collector.js';
import { openCalibrationData } from '../calibration/calibration-data.js';
import type { CalibrationOptions } from '../calibration/options.js';
import type { QuantizedTensorRecord } from '../static/apply-plan.js';
import type { StaticQuantizationResult } from '../static/quantize-static.js';
import { jsonNumber, QuantizationErrorAccumulator } from './quantization-error.js';

export interface TensorReportRow {
  readonly tensor: string;
  readonly kind: QuantizedTensorRecord['kind'];
  readonly floatTensor: string;
  readonly node?: string;
  readonly dtype: string;
  /** The scale (per tensor) or the scales (per channel, first 64). */
  readonly scale: readonly number[];
  readonly zeroPoint: readonly number[];
  readonly axis?: number;
  readonly channels: number;
  readonly sqnrDb: number | string;
  readonly cosine: number;
}

export interface QuantizationReport {
  readonly pass: 'quantize-static';
  readonly samples: number;
  readonly nodes: StaticQuantizationResult['nodes'];
  readonly tensors: readonly TensorReportRow[];
  readonly leftFloat: StaticQuantizationResult['leftFloat'];
  readonly unsupportedOps: Readonly<Record<string, number>>;
  readonly accuracy?: unknown;
}

function row(record: QuantizedTensorRecord, error: QuantizationErrorAccumulator): TensorReportRow {
  return {
    tensor: record.tensor,
    kind: record.kind,
    floatTensor: record.floatTensor,
    ...(record.node ? { node: record.node } : {}),
    dtype: record.dtype,
    scale: record.scale.slice(0, 64),
    zeroPoint: record.zeroPoint.slice(0, 64),
    ...(record.axis !== undefined ? { axis: record.axis } : {}),
    channels: record.scale.length,
    sqnrDb: jsonNumber(error.sqnrDb),
    cosine: Number(error.cosine.toFixed(6)),
  };
}

/** Offline error of a weight or bias: its float original in `floatModel` against the integers of `quantized` dequantized. */
function constantError(record: QuantizedTensorRecord, floatModel: Model, quantized: Model): QuantizationErrorAccumulator {
  const error = new QuantizationErrorAccumulator();
  const original = floatModel.graph.getValue(record.floatTensor)?.constant;
  const integers = quantized.graph.getValue(record.tensor)?.constant;
  if (!original || !integers) return error;
  const shape = record.scale.length === 1 ? [] : [record.scale.length];
  const scale = Tensor.fromValues('float32', shape, [...record.scale]);
  const zeroPoint = Tensor.fromValues(integers.dtype, shape, [...record.zeroPoint]);
  const reals = dequantizeLinear(integers, scale, zeroPoint, record.axis !== undefined ? { axis: record.axis } : {});
  const exact = original.toNumbers();
  // A Gemm C folded with beta or reshaped keeps its element order; a different count means another tensor.
  if (exact.length === reals.size) error.add(exact, reals.toNumbers());
  return error;
}

/** The DequantizeLinear output that gives the reals of `integers` in the lowered model. */
function dequantizedName(model: Model, integers: string): string | undefined {
  const value = model.graph.getValue(integers);
  if (!value) return undefined;
  for (const use of value.uses) if (use.node?.op === 'onnx.DequantizeLinear' && use.index === 0) return use.node.output(0).name;
  return undefined;
}

export interface LayerReportOptions {
  /** Calibration data (dataset, seed, samples) the activations are measured on. */
  readonly calibration: CalibrationOptions;
  /** Samples to measure on (default: up to 256 of the calibration samples). */
  readonly samples?: number;
}

/** Builds the report from the float model's ONNX bytes (taken before quantizing) and the quantized, lowered model. */
export async function buildQuantizationReport(
  floatBytes: Uint8Array,
  quantized: Model,
  result: StaticQuantizationResult,
  options: LayerReportOptions,
): Promise<QuantizationReport> {
  const floatModel = decodeOnnx(floatBytes);
  const errors = new Map<QuantizedTensorRecord, QuantizationErrorAccumulator>();
  const activations: { record: QuantizedTensorRecord; reals: string }[] = [];
  for (const record of result.tensors) {
    if (record.kind !== 'activation') {
      errors.set(record, constantError(record, floatModel, quantized));
      continue;
    }
    const reals = dequantizedName(quantized, record.tensor);
    if (reals && floatModel.graph.getValue(record.floatTensor)) activations.push({ record, reals });
    errors.set(record, new QuantizationErrorAccumulator());
  }
  const samples = Math.min(options.samples ?? 256, options.calibration.samples);
  let seen = 0;
  if (activations.length > 0) {
    const calibration = { ...options.calibration, samples, onProgress: undefined, warn: undefined };
    const floatCollector = await ActivationCollector.open(floatModel, [...new Set(activations.map((a) => a.record.floatTensor))]);
    try {
      const quantizedCollector = await ActivationCollector.open(quantized, [...new Set(activations.map((a) => a.reals))]);
      try {
        for await (const batch of openCalibrationData(floatModel, calibration)) {
          const exact = await floatCollector.run(batch.feeds);
          const approx = await quantizedCollector.run(batch.feeds);
          for (const { record, reals } of activations) {
            errors.get(record)!.add(exact.get(record.floatTensor)!.toNumbers(), approx.get(reals)!.toNumbers());
          }
          seen += batch.samples;
        }
      } finally {
        await quantizedCollector.dispose();
      }
    } finally {
      await floatCollector.dispose();
    }
  }
  return {
    pass: 'quantize-static',
    samples: Math.min(seen, samples),
    nodes: result.nodes,
    tensors: result.tensors.map((record) => row(record, errors.get(record)!)),
    leftFloat: result.leftFloat,
    unsupportedOps: Object.fromEntries(result.unsupportedOps),
  };
}

/** The report as aligned text lines (for `--debug`). */
export function formatQuantizationReport(report: QuantizationReport): string[] {
  const lines = [`${'tensor'.padEnd(48)} ${'kind'.padEnd(10)} ${'dtype'.padEnd(6)} ${'scale'.padEnd(12)} ${'zp'.padEnd(5)} ${'SQNR dB'.padStart(8)} ${'cosine'.padStart(8)}`];
  for (const t of report.tensors) {
    const scale = t.channels > 1 ? `${t.channels} ch` : String(Number(t.scale[0]?.toPrecision(4)));
    const zp = t.channels > 1 ? '-' : String(t.zeroPoint[0]);
    const sqnr = typeof t.sqnrDb === 'number' ? t.sqnrDb.toFixed(1) : t.sqnrDb;
    lines.push(`${t.tensor.slice(0, 48).padEnd(48)} ${t.kind.padEnd(10)} ${t.dtype.padEnd(6)} ${scale.padEnd(12)} ${zp.padEnd(5)} ${sqnr.padStart(8)} ${t.cosine.toFixed(4).padStart(8)}`);
  }
  return lines;
}
