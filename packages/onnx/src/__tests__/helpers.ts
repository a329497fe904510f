import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onnx } from '../generated/onnx.js';
import type { onnx as OnnxTypes } from '../generated/onnx-types.js';

export function tempDir(tag: string): string {
  return mkdtempSync(join(tmpdir(), `modelpass-onnx-${tag}-`));
}

/** Serializes a ModelProto written as a plain object (the raw format, bypassing our importer). */
export function modelBytes(model: OnnxTypes.ModelProto.$Properties): Uint8Array {
  return onnx.ModelProto.encode(model).finish();
}

export function decodeModelProto(bytes: Uint8Array): OnnxTypes.ModelProto {
  return onnx.ModelProto.decode(bytes);
}

export const FLOAT = 1;
export const INT64 = 7;

export function tensorInfo(name: string, elemType: number, dims: (number | string)[]): OnnxTypes.ValueInfoProto.$Properties {
  return {
    name,
    type: { tensor_type: { elem_type: elemType, shape: { dim: dims.map((d) => (typeof d === 'number' ? { dim_value: d } : { dim_param: d })) } } },
  };
}

/** A one-node model: y = Add(x, w) with w an initializer. */
export function addModel(opset = 13): OnnxTypes.ModelProto.$Properties {
  return {
    ir_version: 8,
    opset_import: [{ domain: '', version: opset }],
    producer_name: 'modelpass-test',
    graph: {
      name: 'add',
      node: [{ op_type: 'Add', input: ['x', 'w'], output: ['y'] }],
      initializer: [{ name: 'w', data_type: FLOAT, dims: [2, 3], float_data: [1, 2, 3, 4, 5, 6] }],
      input: [tensorInfo('x', FLOAT, ['N', 3])],
      output: [tensorInfo('y', FLOAT, ['N', 3])],
    },
  };
}

/** y = x + w0 + w1 + ... with `count` float32[rows, 256] weights filled from `seed`. */
export function weightsModel(count: number, rows: number, seed: number): Uint8Array {
  const initializer = Array.from({ length: count }, (_, k) => {
    const values = new Float32Array(rows * 256).map((_, i) => ((i * 31 + k * 7 + seed) % 1000) / 10);
    return { name: `w${k}`, data_type: FLOAT, dims: [rows, 256], raw_data: new Uint8Array(values.buffer) };
  });
  const node = initializer.map((w, k) => ({ op_type: 'Add', name: `add${k}`, input: [k === 0 ? 'x' : `h${k - 1}`, w.name], output: [k === count - 1 ? 'y' : `h${k}`] }));
  return modelBytes({
    ir_version: 8,
    opset_import: [{ domain: '', version: 13 }],
    graph: { name: 'weights', node, initializer, input: [tensorInfo('x', FLOAT, [rows, 256])], output: [tensorInfo('y', FLOAT, [rows, 256])] },
  });
}

