import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot, runCli } from './run-cli.js';

const temp = mkdtempSync(join(tmpdir(), 'modelpass-inspect-sparse-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

describe('inspect on sparse initializers', () => {
  it('counts a sparse initializer by its dense shape and says how much of it is stored', async () => {
    const cnn = join(repoRoot, 'fixtures/models/fashion-cnn/model.onnx');
    const dense = JSON.parse((await runCli(['inspect', cnn, '--json'])).stdout) as { parameters: number; sparse?: unknown };
    const sparsePath = join(temp, 'sparse.onnx');
    expect((await runCli(['convert', cnn, '-o', sparsePath, '-p', 'prune-magnitude{sparsity=0.8 sparse-initializers=true}'])).code).toBe(0);
    const sparse = JSON.parse((await runCli(['inspect', sparsePath, '--json'])).stdout) as { parameters: number; sparse?: { initializers: number; elements: number; stored: number } };
    expect(dense.sparse).toBeUndefined();
    expect(sparse.parameters).toBe(dense.parameters);
    expect(sparse.sparse!.initializers).toBeGreaterThan(0);
    expect(sparse.sparse!.stored / sparse.sparse!.elements).toBeCloseTo(0.2, 2);
    const text = (await runCli(['inspect', sparsePath])).stdout;
    expect(text).toMatch(/sparse +\d+ initializer\(s\) store [\d,]+ of [\d,]+ elements \(80\.0% zeros left out\)/);
  });
});
