/**
 * `batch --input-shape/--input-dtype`: a convert job carries how its model is read to the worker's
 * read hook (plain JSON, so it survives BullMQ), and the default hooks, which read ONNX as it is,
 * refuse such options instead of dropping them.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readOnnx, writeOnnx } from '@modelpass/onnx';
import { EmbeddedBackend, convertBatch, convertModel, defaultConvertEnvironment, defaultJobHandlers, type ConvertReadOptions } from '@modelpass/distributed';
import { FASHION_CNN } from './quantize-fixture.js';

const folder = mkdtempSync(join(tmpdir(), 'convert-read-'));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

describe('convert jobs with read options', () => {
  it('hands the options of every job to the read hook, through the backend', async () => {
    const seen: (ConvertReadOptions | undefined)[] = [];
    const backend = new EmbeddedBackend({
      handlers: defaultJobHandlers({
        environment: defaultConvertEnvironment,
        read: (path, options) => {
          seen.push(options);
          return readOnnx(path);
        },
        write: (model, path) => writeOnnx(model, path),
      }),
    });
    const read = { inputShapes: { input: [1, 1, 28, 28] }, inputDtypes: { input: 'float32' } };
    try {
      const outcomes = await convertBatch(backend, [{ input: FASHION_CNN, output: join(folder, 'a.onnx') }], 'simplify', undefined, read);
      expect(outcomes[0]!.ok, outcomes[0]!.error).toBe(true);
      await convertBatch(backend, [{ input: FASHION_CNN, output: join(folder, 'b.onnx') }], 'simplify');
    } finally {
      await backend.close();
    }
    expect(seen).toEqual([read, undefined]);
  });

  it('the default hooks refuse input shapes rather than ignore them', async () => {
    const output = join(folder, 'refused.onnx');
    const result = await convertModel({ input: FASHION_CNN, output, pipeline: 'simplify', read: { inputShapes: { input: [1, 1, 28, 28] } } });
    expect(result.ok).toBe(false);
    expect(!result.ok && result.error).toContain('need a read hook that applies them');
    expect(existsSync(output)).toBe(false);
    expect(await convertModel({ input: FASHION_CNN, output, pipeline: 'simplify', read: {} })).toMatchObject({ ok: true });
  });
});
