/**
 * Hostile ONNX files through the built CLI (`modelpass convert`), on the real filesystem: external
 * data symlinked out of the model folder or replaced by a FIFO, cyclic graphs, and a 3 GB weight
 * (a sparse file, so no disk is needed) through the pipelines that hash, compare and inspect weights.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, rmSync, symlinkSync, truncateSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readOnnx } from '@modelpass/onnx';
import { binPath, spawnCli } from './run-cli.js';

let work: string;

beforeAll(() => {
  expect(existsSync(binPath), `${binPath} is missing: build the CLI first (npx nx run @modelpass/cli:build)`).toBe(true);
  work = mkdtempSync(join(tmpdir(), 'modelpass-hostile-onnx-'));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Debian's Python with ONNX (`python3` on PATH is another interpreter). */
function python(code: string, args: readonly string[]): void {
  execFileSync('/usr/bin/python3', ['-c', code, ...args], { stdio: ['ignore', 'ignore', 'inherit'] });
}

/** y = (x + w) * 2 with w float32[count] in external file `location` (made by Python onnx). */
function externalModel(path: string, location: string, count: number): void {
  python(
    `import sys, onnx
from onnx import helper, TensorProto
path, location, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
w = TensorProto(); w.name = 'w'; w.data_type = TensorProto.FLOAT; w.dims.extend([n]); w.data_location = TensorProto.EXTERNAL
for key, value in (('location', location), ('offset', '0'), ('length', str(4 * n))):
    entry = w.external_data.add(); entry.key = key; entry.value = value
two = helper.make_tensor('two', TensorProto.FLOAT, [], [2.0])
nodes = [helper.make_node('Add', ['x', 'w'], ['s'], name='add'), helper.make_node('Mul', ['s', 'two'], ['y'], name='mul')]
graph = helper.make_graph(nodes, 'g', [helper.make_tensor_value_info('x', TensorProto.FLOAT, [n])], [helper.make_tensor_value_info('y', TensorProto.FLOAT, [n])], [w, two])
model = helper.make_model(graph, opset_imports=[helper.make_opsetid('', 13)]); model.ir_version = 8
onnx.save(model, path)`,
    [path, location, String(count)],
  );
}

describe('convert refuses external data it must not read', () => {
  it('a data file symlinked to a file outside the model folder: exit 1, nothing written', () => {
    const folder = join(work, 'symlink');
    mkdirSync(folder);
    writeFileSync(join(work, 'outside.bin'), Buffer.alloc(16, 1));
    symlinkSync(join(work, 'outside.bin'), join(folder, 'weights.bin'));
    externalModel(join(folder, 'model.onnx'), 'weights.bin', 4);
    const out = join(work, 'symlink-out.onnx');
    const result = spawnCli(['convert', join(folder, 'model.onnx'), '-o', out]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/external data path 'weights.bin' of tensor 'w' escapes the model's folder through a symbolic link/);
    expect(existsSync(out)).toBe(false);
  });

  it('a FIFO as the data file: a clear error at once, no hang', () => {
    const folder = join(work, 'fifo');
    mkdirSync(folder);
    expect(spawnSync('mkfifo', [join(folder, 'weights.bin')]).status).toBe(0);
    externalModel(join(folder, 'model.onnx'), 'weights.bin', 4);
    const started = Date.now();
    const result = spawnCli(['convert', join(folder, 'model.onnx'), '-o', join(work, 'fifo-out.onnx')]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/external data file 'weights.bin' of tensor 'w' is a FIFO \(named pipe\), not a regular file/);
    expect(Date.now() - started).toBeLessThan(20_000);
  });

  it('a cyclic graph is refused even when no pipeline runs', () => {
    const path = join(work, 'cycle.onnx');
    python(
      `import sys, onnx
from onnx import helper, TensorProto
nodes = [helper.make_node('Add', ['x', 'b'], ['a'], name='first'), helper.make_node('Relu', ['a'], ['b'], name='second')]
graph = helper.make_graph(nodes, 'g', [helper.make_tensor_value_info('x', TensorProto.FLOAT, [1])], [helper.make_tensor_value_info('b', TensorProto.FLOAT, [1])])
onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid('', 13)]), sys.argv[1])`,
      [path],
    );
    const out = join(work, 'cycle-out.onnx');
    const result = spawnCli(['convert', path, '-o', out]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/graph 'g' has a cycle: '(first|second)' \(onnx\.\w+\) → '(first|second)' \(onnx\.\w+\) → /);
    expect(existsSync(out)).toBe(false);
  });
});

describe('a 3 GB weight (sparse external data) through the pipelines', () => {
  const count = (3 * 2 ** 30) / 4;
  let model: string;

  beforeAll(() => {
    const folder = join(work, 'big');
    mkdirSync(folder);
    const data = join(folder, 'w.bin');
    writeFileSync(data, '');
    truncateSync(data, count * 4);
    // Non-zero first and last elements: a real weight, not a splat of the neutral element.
    const fd = openSync(data, 'r+');
    writeSync(fd, new Uint8Array(new Float32Array([0.5]).buffer), 0, 4, 0);
    writeSync(fd, new Uint8Array(new Float32Array([-1.5]).buffer), 0, 4, count * 4 - 4);
    closeSync(fd);
    model = join(folder, 'big.onnx');
    externalModel(model, 'w.bin', count);
  });

  for (const pipeline of ['canonicalize', 'cse', 'simplify', 'optimize']) {
    it(`convert --pipeline ${pipeline} succeeds and writes the weight unchanged (sparse)`, () => {
      const folder = join(work, `out-${pipeline}`);
      mkdirSync(folder);
      const out = join(folder, 'out.onnx');
      const result = spawnCli(['convert', model, '-o', out, '--pipeline', pipeline]);
      expect(result.stderr).not.toMatch(/RangeError|out of range/);
      expect(result.code, result.stderr).toBe(0);
      const written = readOnnx(out);
      const weight = written.graph.lookup('w')!.constant!;
      expect(weight.byteLength).toBe(count * 4);
      const chunks = weight.byteChunks(4096);
      expect(new Float32Array((chunks.next().value as Uint8Array).slice(0, 4).buffer)[0]).toBe(0.5);
      const tail = new Uint8Array(4);
      weight.storage!.readChunk!(tail, count * 4 - 4);
      expect(new Float32Array(tail.buffer)[0]).toBe(-1.5);
      expect(readdirSync(folder).filter((name) => name.endsWith('.data'))).toHaveLength(1);
    }, 120_000);
  }
});
