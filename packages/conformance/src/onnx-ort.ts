import type { OnnxDataValue } from '@modelpass/onnx';
import { toOrtTensor } from '@modelpass/runtime';
import * as ort from 'onnxruntime-node';

/**
 * An ORT tensor for a conformance value, through the runtime's exact converter; throws for what the
 * JS API cannot feed (sequences, bfloat16, ...).
 */
export function toOrtValue(value: OnnxDataValue): ort.Tensor {
  if (value.kind !== 'tensor') throw new Error(`onnxruntime-node cannot feed a ${value.kind}`);
  return toOrtTensor(ort.Tensor, value.tensor, 'conformance input');
}

export interface OrtOutput {
  readonly type: string;
  readonly dims: readonly number[];
  readonly data: unknown;
}

const FLOAT_TYPES = new Set(['float32', 'float64', 'float16']);

function isNaNElement(type: string, view: ArrayLike<number | bigint>, index: number): boolean {
  const v = view[index];
  if (type === 'float16') {
    const bits = Number(v);
    return (bits & 0x7c00) === 0x7c00 && (bits & 0x3ff) !== 0;
  }
  return typeof v === 'number' && Number.isNaN(v);
}

/** Whether two ORT outputs are the same tensor bit for bit (any NaN equals any NaN). */
export function ortOutputsIdentical(a: OrtOutput, b: OrtOutput): boolean {
  if (a.type !== b.type || a.dims.length !== b.dims.length || a.dims.some((d, i) => d !== b.dims[i])) return false;
  if (Array.isArray(a.data) || Array.isArray(b.data)) {
    const x = a.data as unknown[];
    const y = b.data as unknown[];
    return Array.isArray(x) && Array.isArray(y) && x.length === y.length && x.every((v, i) => v === y[i]);
  }
  const x = a.data as ArrayLike<number | bigint> & ArrayBufferView;
  const y = b.data as ArrayLike<number | bigint> & ArrayBufferView;
  if (x.length !== y.length) return false;
  const xb = Buffer.from(x.buffer, x.byteOffset, x.byteLength);
  const yb = Buffer.from(y.buffer, y.byteOffset, y.byteLength);
  if (xb.equals(yb)) return true;
  if (!FLOAT_TYPES.has(a.type)) return false;
  const size = xb.byteLength / x.length;
  for (let i = 0; i < x.length; i++) {
    if (xb.compare(yb, i * size, (i + 1) * size, i * size, (i + 1) * size) === 0) continue;
    if (isNaNElement(a.type, x, i) && isNaNElement(a.type, y, i)) continue;
    return false;
  }
  return true;
}

export const ORT_DETERMINISTIC_OPTIONS: ort.InferenceSession.SessionOptions = {
  // 4: ORT prints nothing for sessions it refuses (failures still come back as exceptions).
  logSeverityLevel: 4,
  intraOpNumThreads: 1,
  interOpNumThreads: 1,
  executionMode: 'sequential',
};

/** Runs a model file once in ONNX Runtime (CPU) and returns its outputs by name; frees the session. */
export async function runOrtOnce(modelPath: string, feeds: Record<string, ort.Tensor>): Promise<Record<string, OrtOutput>> {
  const session = await ort.InferenceSession.create(modelPath, ORT_DETERMINISTIC_OPTIONS);
  try {
    const results = await session.run(feeds);
    const outputs: Record<string, OrtOutput> = {};
    for (const [name, tensor] of Object.entries(results)) {
      outputs[name] = { type: tensor.type, dims: [...tensor.dims], data: tensor.data };
    }
    return outputs;
  } finally {
    await session.release();
  }
}

