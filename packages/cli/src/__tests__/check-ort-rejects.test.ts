/**
 * `convert --check` judged a pass's model on the reference interpreter whenever ONNX Runtime failed on
 * it — also when ORT rejected it as invalid. A plugin pass that declared the graph output int64 (its
 * Gemm makes float32) passed the check "ok (reference)" and convert wrote a file ONNX's checker and
 * ORT refuse. Now, when ORT ran the original, an ORT rejection of a pass's model stops the pipeline
 * naming the pass and writes nothing; the interpreter still stands in where ORT lacks an op (check.test.ts).
 * verify-each now catches this pass too (it propagates inferred types through the model's untyped
 * intermediates), so the --check case turns verify-each off to reach the ORT referee.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot, spawnCli } from './run-cli.js';

const temp = mkdtempSync(join(tmpdir(), 'modelpass-check-ort-rejects-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));
const mlp = join(repoRoot, 'fixtures/models/fashion-mlp/model.onnx');

const plugin = join(temp, 'breaks-types.mjs');
writeFileSync(plugin, `import { definePass, definePlugin } from '@modelpass/pass-manager';
const wrongType = definePass({ name: 'wrong-output-type', summary: 'declares the first graph output int64', options: {}, run(model, context) {
  const output = model.graph.outputs[0];
  output.type = { ...output.type, dtype: 'int64' };
  return context.preserveNone();
} });
export default definePlugin({ name: 'breaks-types', version: '1.0.0', passManager: '^0.1.0', passes: [wrongType] });
`);

describe('convert --check when ONNX Runtime rejects what a pass wrote', () => {
  it('stops at the pass, names it and ORT\'s reason, and writes no output', () => {
    const output = join(temp, 'out.onnx');
    const result = spawnCli(['convert', mlp, '-o', output, '--plugin', plugin, '-p', 'wrong-output-type,dce', '--check', '--no-verify-each'], temp);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("--check: ONNX Runtime rejects the model pass 'wrong-output-type' (#1, from plugin 'breaks-types') left, though it ran the original");
    expect(result.stderr).toMatch(/tensor\(int64\)/);
    expect(result.stderr).not.toContain('check #1 wrong-output-type: ok');
    expect(result.stderr).not.toMatch(/\n\s+at /);
    expect(existsSync(output)).toBe(false);
  }, 120_000);

  it('without --check, verify-each stops the same pass: the output declared int64 behind untyped intermediates', () => {
    const output = join(temp, 'unchecked.onnx');
    const result = spawnCli(['convert', mlp, '-o', output, '--plugin', plugin, '-p', 'wrong-output-type'], temp);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("pass 'wrong-output-type' from plugin 'breaks-types'@1.0.0 left the IR invalid");
    expect(result.stderr).toMatch(/output #0 'logits' is declared int64\[N,10\] but onnx\.Gemm gives float32\[N,10\]/);
    expect(result.stderr).not.toMatch(/\n\s+at /);
    expect(existsSync(output)).toBe(false);
  }, 60_000);
});
