/**
 * QuantizeLinear / DequantizeLinear written as TorchScript (QA s11: a quantize-static model could not be
 * written as .pt, "no torch.* spelling for onnx.DequantizeLinear"): per-tensor uint8, per-axis int8 (a
 * positive and a negative axis), no zero point (uint8 by default), an int32 bias-like constant past
 * 2^24, values on rounding ties. Referees: ONNX Runtime on the model, Debian torch on the archive —
 * the same float32 numbers, bit for bit. Blocked quantization is refused by name.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { attrs, GraphBuilder, ModelpassError, Tensor, tensorType, type Value } from '@modelpass/ir';
import { inferShapes } from '@modelpass/ops';
import { disposeSharedOrtRunner, readNpy, runOrt, writeNpy } from '@modelpass/runtime';
import { writeTorchScript } from '@modelpass/torchscript';
import { runPython } from './torch/torch-fixtures.js';

const here = dirname(fileURLToPath(import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'modelpass-quantize-export-'));
afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  await disposeSharedOrtRunner();
});

const SHAPE = [2, 3, 4, 5];

function input(): Tensor {
  // A ramp across [-4, 4) plus exact multiples of half a step of 0.05 (ties for round-half-to-even).
  const count = SHAPE.reduce((a, b) => a * b, 1);
  return Tensor.fromValues('float32', SHAPE, Array.from({ length: count }, (_, i) => (i % 3 === 0 ? Math.fround(((i % 40) - 20 + 0.5) * 0.05) : Math.fround(Math.sin(i * 0.37) * 4))));
}

function qdqModel(blockSize?: number) {
  const b = new GraphBuilder();
  const x = b.input('x', tensorType('float32', SHAPE));
  const f32 = (values: number[]) => b.constant(values.length === 1 ? Tensor.scalar('float32', values[0]!) : Tensor.fromValues('float32', [values.length], values));
  const flat = (v: Value) => b.op1('onnx.Reshape', [v, b.constant(Tensor.fromValues('int64', [1], [-1n]))]);
  const pair = (scale: Value, zeroPoint: Value | null, axis?: number) => {
    const options = axis === undefined ? {} : { axis: attrs.int(axis), ...(blockSize ? { block_size: attrs.int(blockSize) } : {}) };
    const q = b.op1('onnx.QuantizeLinear', zeroPoint ? [x, scale, zeroPoint] : [x, scale], options);
    return flat(b.op1('onnx.DequantizeLinear', zeroPoint ? [q, scale, zeroPoint] : [q, scale], options));
  };
  const perTensor = pair(f32([0.05]), b.constant(Tensor.scalar('uint8', 128)));
  const perAxis = pair(f32([0.02, 0.1, 0.5]), b.constant(Tensor.fromValues('int8', [3], [-3, 0, 7])), 1);
  const negativeAxis = pair(f32([0.03, 0.04, 0.05, 0.06]), b.constant(Tensor.fromValues('int8', [4], [1, -2, 3, -4])), -2);
  const noZeroPoint = pair(f32([0.1]), null);
  const bias = flat(b.op1('onnx.DequantizeLinear', [b.constant(Tensor.fromValues('int32', [4], [100000, -7, 16777219, -2147483000])), f32([1e-4])]));
  b.output(b.op1('onnx.Concat', [perTensor, perAxis, negativeAxis, noZeroPoint, bias], { axis: attrs.int(0) }));
  const model = b.model({ onnx: blockSize ? 21 : 13 });
  inferShapes(model, { mode: 'refresh' });
  return model;
}

describe('QuantizeLinear / DequantizeLinear as TorchScript', () => {
  it('torch computes the same float32 numbers as ONNX Runtime, bit for bit', async () => {
    const model = qdqModel();
    const x = input();
    const expected = [...(await runOrt(model, { x })).values()][0]!.toNumbers();
    const archive = join(dir, 'qdq.pt');
    writeTorchScript(model, archive);
    writeNpy(x, join(dir, 'x.npy'));
    runPython(join(here, 'torch/run-archive.py'), [archive, join(dir, 'x.npy'), join(dir, 'out.npy')]);
    const actual = readNpy(join(dir, 'out.npy')).toNumbers();
    expect(actual.length).toBe(expected.length);
    const differing = actual.map((v, i) => [i, v, expected[i]!] as const).filter(([, v, e]) => v !== e);
    expect(differing.slice(0, 5)).toEqual([]);
    // Not trivially equal: quantization changed the values (a step apart from x), the int32 past 2^24 kept exactly.
    const count = x.size;
    expect(actual.slice(0, count).filter((v, i) => v !== x.toNumbers()[i]).length).toBeGreaterThan(count / 2);
    expect(actual[actual.length - 2]).toBe(Math.fround(Math.fround(16777219) * Math.fround(1e-4)));
  }, 120_000);

  it('refuses blocked quantization by node name', () => {
    const model = qdqModel(2);
    let error: unknown;
    try {
      writeTorchScript(model, join(dir, 'blocked.pt'));
    } catch (thrown) {
      error = thrown;
    }
    expect(ModelpassError.is(error)).toBe(true);
    expect((error as Error).message).toMatch(/QuantizeLinear node '.*' as TorchScript: blocked quantization/);
  });
});
