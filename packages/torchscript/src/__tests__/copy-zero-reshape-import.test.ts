/**
 * A Reshape to sizes computed from a symbolic shape (`x.view(x.size(0), -1, 4)`, a channel shuffle's [n, g, c/g, h, w]) is
 * written with ONNX's copy-a-zero rule as `torch.where(sizes == 0, x.shape, sizes)`; read back, that is the Reshape it came
 * from, so the dims inference knew stay known. QA s19 F6: view(x.size(0), -1, 4) of [n, 8, 6] read back as [?, ?, ?]
 * (a flatten of computed sizes as [?, ?]). Numbers: ONNX Runtime on the read-back model against the original.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { attrs, GraphBuilder, Tensor, tensorType, type Dim, type Value } from '@modelpass/ir';
import { runOrt } from '@modelpass/runtime';
import { readTorchScript, writeTorchScript } from '@modelpass/torchscript';

const dir = mkdtempSync(join(tmpdir(), 'modelpass-copy-zero-reshape-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const i64 = (values: number[]) => Tensor.fromValues('int64', [values.length], values.map((v) => BigInt(v)));
const dimOf = (b: GraphBuilder, x: Value, axis: number): Value => b.op1('onnx.Gather', [b.op1('onnx.Shape', [x]), b.constant(i64([axis]), `axis${axis}`)], { axis: attrs.int(0) });

interface Case {
  readonly name: string;
  readonly input: Dim[];
  readonly run: number[];
  readonly sizes: (b: GraphBuilder, x: Value) => Value;
  /** The read-back output's dims, null where the graph input's symbols are not kept. */
  readonly expected: Array<number | 'symbolic'>;
}

const CASES: Case[] = [
  {
    name: 'view(x.size(0), -1, 4)',
    input: ['n', 8, 6],
    run: [2, 8, 6],
    sizes: (b, x) => b.op1('onnx.Concat', [dimOf(b, x, 0), b.constant(i64([-1, 4]), 'rest')], { axis: attrs.int(0) }),
    expected: ['symbolic', 12, 4],
  },
  {
    name: 'a computed 0 that copies the input dim: [n, 0 * c, -1]',
    input: ['n', 8, 6],
    run: [3, 8, 6],
    sizes: (b, x) => b.op1('onnx.Concat', [dimOf(b, x, 0), b.op1('onnx.Mul', [dimOf(b, x, 1), b.constant(i64([0]), 'zero')]), b.constant(i64([-1]), 'rest')], { axis: attrs.int(0) }),
    expected: ['symbolic', 8, 6],
  },
  {
    name: 'more sizes than input dims: [n, 2, 3, h, w] (a channel shuffle)',
    input: ['n', 6, 'h', 'w'],
    run: [2, 6, 3, 5],
    sizes: (b, x) => b.op1('onnx.Concat', [dimOf(b, x, 0), b.constant(i64([2, 3]), 'groups'), dimOf(b, x, 2), dimOf(b, x, 3)], { axis: attrs.int(0) }),
    expected: ['symbolic', 2, 3, 'symbolic', 'symbolic'],
  },
];

describe.each(CASES)('a Reshape to $name read back from TorchScript', (c) => {
  it('keeps the dims known, holds no copy-a-zero Where, and computes what the original computes', async () => {
    const b = new GraphBuilder();
    const x = b.input('x', tensorType('float32', c.input));
    b.output(b.op1('onnx.Relu', [b.op1('onnx.Reshape', [x, c.sizes(b, x)])]));
    const model = b.model({ onnx: 17 });
    const path = join(dir, `${c.name.replace(/[^A-Za-z0-9]+/g, '_')}.pt`);
    writeTorchScript(model, path);
    const read = readTorchScript(path, { inputs: { x: { shape: c.input } } });

    const type = read.graph.outputs[0]!.type;
    const shape = type.kind === 'tensor' ? type.shape : undefined;
    expect(shape?.map((dim) => (typeof dim === 'number' ? dim : dim === null ? null : 'symbolic'))).toEqual(c.expected);
    expect([...read.graph.nodes()].filter((node) => node.op === 'onnx.Where')).toEqual([]);

    const count = c.run.reduce((n, d) => n * d, 1);
    const feeds = { x: Tensor.fromValues('float32', c.run, Array.from({ length: count }, (_, i) => Math.sin(i) * 3)) };
    const expected = [...(await runOrt(model, feeds)).values()][0]!;
    const actual = [...(await runOrt(read, feeds)).values()][0]!;
    expect(actual.shape).toEqual(expected.shape);
    expect(actual.toNumbers()).toEqual(expected.toNumbers());
  });
});
