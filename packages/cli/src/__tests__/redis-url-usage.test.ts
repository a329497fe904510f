/**
 * A malformed `--redis` URL is a usage error (exit 2, the usage line) on every command that takes it,
 * before any work: before, `convert`, `batch` and `worker` exited 1 like a model error while `eval` exited 2.
 * An unreachable but well-formed URL stays a runtime error (exit 1 on convert).
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot, runCli } from './run-cli.js';

const work = mkdtempSync(join(tmpdir(), 'modelpass-redis-url-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const mlp = join(repoRoot, 'fixtures/models/fashion-mlp/model.onnx');

describe('--redis URL syntax', () => {
  it.each([
    ['convert', ['convert', mlp, '-o', join(work, 'out.onnx'), '-p', 'quantize-static', '--redis', 'notaurl']],
    ['eval', ['eval', mlp, '--dataset', 'fashion-mnist:test', '--redis', 'http://127.0.0.1:6379']],
    ['batch', ['batch', '--pipeline', 'simplify', mlp, '-o', work, '--redis', 'redis://127.0.0.1:6379/not-a-db']],
    ['worker', ['worker', '--redis', 'notaurl']],
  ])('%s: exit 2 naming --redis and the expected form, no output', async (command, argv) => {
    const result = await runCli(argv, work);
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).toMatch(new RegExp(`^modelpass ${command}: --redis: .*(not a Redis URL|names database)`));
    expect(result.stderr).toMatch(/usage: modelpass/);
    expect(existsSync(join(work, 'out.onnx'))).toBe(false);
  }, 60_000);

  it('a well-formed URL nobody answers at is a runtime error (exit 1) naming the server', async () => {
    const result = await runCli(['convert', mlp, '-o', join(work, 'out.onnx'), '-p', 'quantize-static', '--redis', 'redis://127.0.0.1:1'], work);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/no Redis server answers at redis:\/\/127\.0\.0\.1:1/);
    expect(existsSync(join(work, 'out.onnx'))).toBe(false);
  }, 60_000);
});
