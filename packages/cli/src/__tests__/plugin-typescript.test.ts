/**
 * `--plugin ./my-plugin.ts`: Node 20 cannot import TypeScript, and its own error ("Unknown file
 * extension '.ts'") does not say what to do. The CLI refuses it by file, saying to compile it first;
 * the same source compiled to .mjs loads and runs (the built binary, as a user runs it).
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot, spawnCli } from './run-cli.js';

const temp = mkdtempSync(join(tmpdir(), 'modelpass-plugin-ts-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));
const mlp = join(repoRoot, 'fixtures/models/fashion-mlp/model.onnx');
const source = [
  "import { definePass, definePlugin } from '@modelpass/pass-manager';",
  "const noop = definePass({ name: 'ts-noop', summary: 'does nothing', run: (_model, context) => context.preserveAll() });",
  "export default definePlugin({ name: 'ts-noop', version: '1.0.0', passManager: '^0.1.0', passes: [noop] });",
].join('\n');

describe('--plugin with TypeScript source', () => {
  it.each(['plugin.ts', 'plugin.mts'])('refuses %s by file with the way out, writing nothing', (name) => {
    writeFileSync(join(temp, name), source);
    const result = spawnCli(['convert', mlp, '-o', join(temp, 'out.onnx'), '--plugin', `./${name}`, '-p', 'ts-noop'], temp);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`${join(temp, name)}: cannot load plugin './${name}': it is TypeScript source, which Node does not import`);
    expect(result.stderr).toMatch(/hint: compile it first/);
    expect(result.stderr).not.toMatch(/Unknown file extension/);
    expect(existsSync(join(temp, 'out.onnx'))).toBe(false);
  });

  it('the same source as .mjs loads and runs', () => {
    writeFileSync(join(temp, 'plugin.mjs'), source);
    const result = spawnCli(['convert', mlp, '-o', join(temp, 'out.onnx'), '--plugin', './plugin.mjs', '-p', 'ts-noop'], temp);
    expect(result.code, result.stderr).toBe(0);
  });
});
