/**
 * `modelpass convert` with quantized IR and the --value-info flag: writing quant<> types to ONNX
 * fails with the writer's located message (exit 1) and no output file; materialize-qdq in the
 * pipeline makes it plain ONNX; --value-info picks the writer's value_info policy.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasDeclaredValueInfo, readOnnx } from '@modelpass/onnx';
import { repoRoot, runCli } from './run-cli.js';

const QUANTIZED = `model ir_version=8 opsets{onnx=13} {
graph @main(%x: float32[2,4]) {
  const %w = tensor<int8[4,3] quant<bits=8, axis=1, scale=[0.5, 0.25, 0.125], zero_point=[0, 0, 0]>> [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]
  %h: float32[2,3] = onnx.MatMul(%x, %w) name="mm"
  %r: uint8[2,3] quant<bits=8, scale=[0.5], zero_point=[0]> = onnx.Relu(%h) name="relu"
  return %r
}
}
`;
const transformer = join(repoRoot, 'fixtures/models/fashion-transformer/model.onnx');
let work: string;
let quantized: string;

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'modelpass-cli-quant-'));
  quantized = join(work, 'quantized.mpir');
  writeFileSync(quantized, QUANTIZED);
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('modelpass convert and quantized types', () => {
  it('refuses to write quant<> types to ONNX (exit 1), names the value and hints at materialize-qdq, writes nothing', async () => {
    const out = join(work, 'refused.onnx');
    const result = await runCli(['convert', quantized, '-o', out]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("cannot write initializer 'w' (int8[4,3] quant<bits=8, per-axis on axis 1>) to ONNX");
    expect(result.stderr).toContain('materialize-qdq');
    expect(existsSync(out)).toBe(false);
  });

  it('writes plain ONNX after --pipeline materialize-qdq', async () => {
    const out = join(work, 'lowered.onnx');
    const result = await runCli(['convert', quantized, '-o', out, '--pipeline', 'materialize-qdq']);
    expect(result.code, result.stderr).toBe(0);
    const ops = [...readOnnx(out).graph.nodes()].map((node) => node.op);
    expect(ops).toEqual(['onnx.DequantizeLinear', 'onnx.MatMul', 'onnx.Relu', 'onnx.QuantizeLinear']);
  });
});

describe('modelpass convert --value-info', () => {
  it('rejects an unknown policy as a usage error (exit 2)', async () => {
    const result = await runCli(['convert', quantized, '-o', join(work, 'x.onnx'), '--value-info', 'inferred']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--value-info must be one of declared, all, none');
  });

  it("writes only the input's declared value_info by default, every inferred one with 'all', none with 'none'", async () => {
    const count = (file: string) => {
      const model = readOnnx(file);
      let n = 0;
      for (const node of model.graph.allNodes()) for (const v of node.outputs) if (v && hasDeclaredValueInfo(v)) n++;
      return n;
    };
    const runs: Record<string, number> = {};
    for (const policy of ['default', 'all', 'none'] as const) {
      const out = join(work, `transformer-${policy}.onnx`);
      const extra = policy === 'default' ? [] : ['--value-info', policy];
      const result = await runCli(['convert', transformer, '-o', out, '--pipeline', 'fold-shapes', ...extra]);
      expect(result.code, result.stderr).toBe(0);
      runs[policy] = count(out);
    }
    const source = count(transformer);
    expect(runs['default']).toBeLessThanOrEqual(source);
    expect(runs['all']).toBeGreaterThan(runs['default']!);
    expect(runs['none']).toBe(0);
  });
});
