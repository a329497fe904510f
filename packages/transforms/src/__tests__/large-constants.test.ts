import { closeSync, mkdtempSync, openSync, truncateSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FileRangeStorage, GraphBuilder, Tensor, tensorType } from '@modelpass/ir';
import { canonicalize, cse, foldConstantsPass, fusePass } from '@modelpass/transforms';
import { runPass } from './helpers.js';

/** A sparse file of `size` bytes with the given bytes set (no disk needed for the zeros). */
function sparseFile(size: number, marks: readonly [number, number][]): string {
  const path = join(mkdtempSync(join(tmpdir(), 'modelpass-transforms-large-')), 'data.bin');
  writeFileSync(path, '');
  truncateSync(path, size);
  const fd = openSync(path, 'r+');
  for (const [position, byte] of marks) writeSync(fd, new Uint8Array([byte]), 0, 1, position);
  closeSync(fd);
  return path;
}

function fileTensor(path: string, bytes: number): Tensor {
  return Tensor.fromStorage('float32', [bytes / 4], new FileRangeStorage(path, 0, bytes));
}

describe('constants larger than one read', () => {
  it('cse compares large constants chunk by chunk: equal ones merge, ones differing in the last byte do not', async () => {
    const bytes = 48 << 20;
    const a = sparseFile(bytes, [[bytes - 1, 0x3f]]);
    const same = sparseFile(bytes, [[bytes - 1, 0x3f]]);
    const other = sparseFile(bytes, [[bytes - 1, 0x40]]);
    const g = new GraphBuilder();
    const x = g.input('x', tensorType('float32', [bytes / 4]));
    const sum = (left: typeof x, path: string, name: string) => g.op1('onnx.Add', [left, g.constant(fileTensor(path, bytes), name)]);
    g.output(g.op1('onnx.Relu', [sum(sum(sum(x, a, 'wa'), same, 'wsame'), other, 'wother')], {}, { outputs: ['y'] }));
    const model = g.model();
    const run = await runPass(cse, model);
    expect(run.statistics.get('constants-merged')).toBe(1);
    expect(model.graph.constants.map((v) => v.name).sort()).toEqual(['wa', 'wother']);
  });

  it('a 3 GB weight: canonicalize reads one chunk to see it is no splat, fold-constants leaves a node reading it alone', async () => {
    const bytes = 3 * 2 ** 30;
    const path = sparseFile(bytes, [[3, 0x3f]]);
    const g = new GraphBuilder();
    const x = g.input('x', tensorType('float32', [bytes / 4]));
    const w = g.constant(fileTensor(path, bytes), 'w');
    g.output(g.op1('onnx.Add', [x, w], {}, { outputs: ['y'] }));
    g.output(g.op1('onnx.ReduceSum', [w], { keepdims: { kind: 'int', value: 0 } }, { outputs: ['total'] }));
    const model = g.model();
    await runPass(canonicalize, model);
    expect(model.graph.nodeList().map((n) => n.op)).toEqual(['onnx.Add', 'onnx.ReduceSum']);
    const run = await runPass(foldConstantsPass, model);
    expect(model.graph.nodeList().map((n) => n.op)).toEqual(['onnx.Add', 'onnx.ReduceSum']);
    expect(run.debug.join('\n')).toMatch(/left onnx.ReduceSum '.*' alone: its constant inputs hold 3221225472 bytes/);
  });

  it('fusions decline a 3 GB weight with the reason instead of rewriting it in memory', async () => {
    const rows = 786_432;
    const bytes = rows * 1024 * 4;
    const path = sparseFile(bytes, [[3, 0x3f]]);
    const g = new GraphBuilder();
    const x = g.input('x', tensorType('float32', [2, rows]));
    const b = g.constant(Tensor.fromStorage('float32', [rows, 1024], new FileRangeStorage(path, 0, bytes)), 'B');
    const product = g.op1('onnx.MatMul', [x, b], {}, { types: [tensorType('float32', [2, 1024])] });
    g.output(g.op1('onnx.Mul', [product, g.constant(Tensor.fromValues('float32', [1024], new Array(1024).fill(2)), 'scale')], {}, { outputs: ['y'] }));
    const model = g.model();
    const run = await runPass(fusePass, model);
    expect(model.graph.nodeList().map((n) => n.op)).toEqual(['onnx.MatMul', 'onnx.Mul']);
    expect(run.debug.join('\n')).toMatch(/the weight of 3221225472 bytes is over the 268435456 bytes a fusion rewrites in memory/);
  });
});
