/**
 * What quantize-static does to the rest of the file: a large float constant only a float op reads
 * (an additive table of 1,024 values) is stored int8 behind a DequantizeLinear with
 * `float-constants=int8` (the default) and stays float32 with `keep`; a small one (< 1,024) and a
 * weight of a layer left float by `exclude=` are never touched. Inserted values and nodes get short
 * names, the model's own keep theirs. ONNX Runtime runs both files; their outputs agree with the
 * float model's within the int8 step of the table.
 */
import { describe, expect, it } from 'vitest';
import { parseModel, Tensor, type Model } from '@modelpass/ir';
import { encodeOnnx } from '@modelpass/onnx';
import { OrtRunner } from '@modelpass/runtime';
import { quantizeStaticWithRanges } from '@modelpass/quantize';

const N = 1024;

function values(count: number, f: (i: number) => number): string {
  return `[${Array.from({ length: count }, (_, i) => Math.fround(f(i))).join(', ')}]`;
}

/** x → MatMul(w) → Add(table, 1,024 values) → MatMul(w2, excluded) → Add(small, 8 values). */
function model(): Model {
  return parseModel(`model ir_version=8 opsets{onnx=13} {
graph @main(%x: float32[2,16]) {
  const %w = tensor<float32[16,${N}]> ${values(16 * N, (i) => Math.sin(i * 0.7) * 0.3)}
  const %table = tensor<float32[1,${N}]> ${values(N, (i) => Math.cos(i * 0.01) * 2)}
  const %small = tensor<float32[8]> ${values(8, (i) => i - 3.5)}
  const %w2 = tensor<float32[${N},8]> ${values(N * 8, (i) => Math.cos(i * 0.3) * 0.1)}
  %h: float32[2,${N}] = onnx.MatMul(%x, %w) name="mm"
  %t: float32[2,${N}] = onnx.Add(%h, %table) name="add_table"
  %o: float32[2,8] = onnx.MatMul(%t, %w2) name="mm2"
  %y: float32[2,8] = onnx.Add(%o, %small) name="add_small"
  return %y
}
}
`);
}

const x = Tensor.fromValues('float32', [2, 16], Array.from({ length: 32 }, (_, i) => Math.sin(i)));

async function run(m: Model): Promise<number[]> {
  const runner = new OrtRunner({ maxSessions: 1 });
  try {
    const out = await runner.run(encodeOnnx(m), { x });
    return [...out.values()][0]!.toNumbers() as number[];
  } finally {
    await runner.dispose();
  }
}

describe('quantize-static float constants and names', () => {
  it('stores the large float-only table int8 behind a DequantizeLinear; keep leaves it; small and excluded weights stay float', async () => {
    const expected = await run(model());
    const ranges = new Map([['x', { min: -1, max: 1 }]]);

    const quantized = model();
    const result = await quantizeStaticWithRanges(quantized, ranges, { exclude: ['mm2'] });
    expect(result.floatConstants.map((c) => c.tensor)).toEqual(['table']);
    const table = quantized.graph.getValue('table')!;
    expect(table.constant?.dtype).toBe('int8');
    expect([...table.uses].map((use) => use.node?.op)).toEqual(['onnx.DequantizeLinear']);
    expect(quantized.graph.getValue('small')!.constant?.dtype).toBe('float32');
    expect(quantized.graph.getValue('w2')!.constant?.dtype).toBe('float32'); // mm2 excluded: its weight stays float
    expect(quantized.graph.getValue('w')!.constant?.dtype).toBe('int8');
    // Names: the model's own values and nodes keep theirs; inserted ones are short.
    for (const name of ['x', 'w', 'table', 'small', 'w2', 'h', 't', 'o', 'y']) expect(quantized.graph.getValue(name), name).toBeDefined();
    const nodes = [...quantized.graph.nodes()];
    const qdq = (op: string) => op === 'onnx.QuantizeLinear' || op === 'onnx.DequantizeLinear';
    expect(nodes.filter((n) => !qdq(n.op)).map((n) => n.name).sort()).toEqual(['add_small', 'add_table', 'mm', 'mm2']);
    for (const node of nodes.filter((n) => qdq(n.op))) expect(node.name).toMatch(/^D?Q\d+$/);

    const kept = model();
    const keptResult = await quantizeStaticWithRanges(kept, ranges, { exclude: ['mm2'], floatConstants: 'keep' });
    expect(keptResult.floatConstants).toEqual([]);
    expect(kept.graph.getValue('table')!.constant?.dtype).toBe('float32');

    // Both run in ORT; the int8 table moves each output by at most its rounding step times |w2| sums.
    const [a, b] = [await run(quantized), await run(kept)];
    const step = result.floatConstants[0]!.scale / 2;
    const bound = step * N * 0.1 + 1e-3;
    for (let i = 0; i < expected.length; i++) {
      expect(Math.abs(a[i]! - b[i]!)).toBeLessThanOrEqual(bound);
      expect(Math.abs(b[i]! - expected[i]!)).toBeLessThanOrEqual(0.05 * (1 + Math.abs(expected[i]!)));
    }
  });
});
