/**
 * An archive torch wrote records no input dtypes, so token ids read as float32 and aten::embedding refuses them. The
 * hint names the graph input and the flag that types it, and says so differently when a dtype was given
 * (QA s11: `--input-dtype tokens=float16` was answered "its inputs are read as float32"). modelpass's writer records
 * input dtypes (extra/modelpass.json), so the archive here is copied without that record, as torch would write it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { attrs, GraphBuilder, ModelpassError, Tensor, tensorType } from '@modelpass/ir';
import { readTorchScript, writeTorchScript, writeZip, ZipFile } from '@modelpass/torchscript';

const dir = mkdtempSync(join(tmpdir(), 'modelpass-embedding-hint-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function taggerArchive(): string {
  const b = new GraphBuilder();
  const ids = b.input('ids', tensorType('int64', [1, 4]));
  const table = b.constant(Tensor.fromValues('float32', [5, 2], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]), 'table');
  b.output(b.op1('onnx.Gather', [table, ids], { axis: attrs.int(0) }));
  const written = join(dir, 'embedding-written.pt');
  writeTorchScript(b.model({ onnx: 17 }), written);
  // Every entry but modelpass's own record, which holds the input dtypes.
  const zip = ZipFile.open(written);
  const path = join(dir, 'embedding.pt');
  writeZip(path, zip.entries.filter((entry) => !entry.name.endsWith('/extra/modelpass.json')).map((entry) => ({ name: entry.name, data: zip.read(entry) })));
  return path;
}

function hintOf(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect(ModelpassError.is(error), String(error)).toBe(true);
    const diagnostic = (error as ModelpassError).diagnostics[0]!;
    expect(diagnostic.reason).toMatch(/indices must be int64 or int32/);
    return diagnostic.hint ?? '';
  }
  throw new Error('expected a refusal');
}

describe('aten::embedding with ids that are not integers', () => {
  const path = taggerArchive();

  it('reads back with int64 ids', () => {
    expect(readTorchScript(path, { inputs: { ids: { shape: [1, 4], dtype: 'int64' } } }).graph.inputs.map((v) => v.name)).toEqual(['ids']);
  });

  it('untyped (read as float32): names the input and the flag', () => {
    const hint = hintOf(() => readTorchScript(path, { inputs: { ids: { shape: [1, 4] } } }));
    expect(hint).toContain("inputs are read as float32: give input 'ids' an integer type, --input-dtype ids=int64");
  });

  it('given another dtype: says it was given, not that it was read as float32', () => {
    const hint = hintOf(() => readTorchScript(path, { inputs: { ids: { shape: [1, 4], dtype: 'float16' } } }));
    expect(hint).toContain("input 'ids' was given dtype float16");
    expect(hint).toContain('--input-dtype ids=int64');
    expect(hint).not.toContain('read as float32');
  });
});
