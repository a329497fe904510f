import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { readOnnx, writeOnnx } from '@modelpass/onnx';
import { tempDir } from './helpers.js';

const writer = fileURLToPath(new URL('./fixtures/pair-writer.mjs', import.meta.url));
const builtPackage = fileURLToPath(new URL('../../dist/export/data-file-pair.js', import.meta.url));

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

/** Starts the writer, waits until its first model exists plus `delayMs`, and kills it with SIGKILL. */
async function killWriterAfter(target: string, delayMs: number, signal: NodeJS.Signals = 'SIGKILL'): Promise<NodeJS.Signals | null> {
  const child = spawn(process.execPath, [writer, target, ...(signal === 'SIGKILL' ? [] : ['--yield'])], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const exited = new Promise<NodeJS.Signals | null>((done) => child.on('exit', (_code, how) => done(how)));
  const started = Date.now();
  while (!existsSync(target)) {
    if (child.exitCode !== null) throw new Error(`the writer stopped before writing: ${stderr}`);
    if (Date.now() - started > 30_000) throw new Error('the writer wrote nothing in 30 s');
    await sleep(5);
  }
  await sleep(delayMs);
  child.kill(signal);
  const how = await exited;
  expect(stderr).toBe('');
  return how;
}

describe('writeOnnx replaces a model and its data file as one pair', () => {
  it('a writer killed with SIGKILL at random points always leaves a complete, consistent pair', async () => {
    // nx runs `build` before `test`; run by hand, build first (the writer process imports dist).
    if (!existsSync(builtPackage)) throw new Error('build @modelpass/onnx first: npx nx run @modelpass/onnx:build');
    for (let run = 0; run < 8; run++) {
      const folder = tempDir('pair');
      const target = join(folder, 'model.onnx');
      await killWriterAfter(target, 40 + Math.floor(Math.random() * 600));
      const model = readOnnx(target);
      const generation = Number(model.metadata.get('generation'));
      const weights = model.graph.constants;
      expect(weights.length).toBe((generation % 3) + 2);
      weights.forEach((weight, k) => {
        const values = new Set(weight.constant!.toNumbers());
        expect([...values]).toEqual([generation + k / 2]);
      });
      // At most the new data file and one stale one (killed between the model's rename and the clean-up).
      const dataFiles = readdirSync(folder).filter((name) => name.endsWith('.data'));
      expect(dataFiles.length).toBeGreaterThanOrEqual(1);
      expect(dataFiles.length).toBeLessThanOrEqual(2);
      // The next write leaves one pair and nothing else: stale data and abandoned temporaries are gone.
      writeOnnx(model, target, { externalData: 'always' });
      expect(readdirSync(folder).filter((name) => name !== 'model.onnx')).toEqual([readdirSync(folder).find((name) => name.endsWith('.data'))]);
      expect(readOnnx(target).metadata.get('generation')).toBe(String(generation));
    }
  }, 120_000);

  it('a writer stopped by SIGTERM or SIGINT leaves no temporary file and still dies of the signal', async () => {
    if (!existsSync(builtPackage)) throw new Error('build @modelpass/onnx first: npx nx run @modelpass/onnx:build');
    for (const signal of ['SIGTERM', 'SIGINT', 'SIGTERM', 'SIGINT'] as const) {
      const folder = tempDir('pair-signal');
      const target = join(folder, 'model.onnx');
      expect(await killWriterAfter(target, 20 + Math.floor(Math.random() * 300), signal)).toBe(signal);
      expect(readdirSync(folder).filter((name) => name.endsWith('.tmp') || name.includes('.tmp-'))).toEqual([]);
      expect(readOnnx(target).graph.constants.length).toBeGreaterThanOrEqual(2);
    }
  }, 120_000);
});
