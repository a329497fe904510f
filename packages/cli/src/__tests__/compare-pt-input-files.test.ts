/**
 * `compare a.pt b.onnx --inputs DIR` needed `--input-shape` as well: the archive records no input
 * shapes and was read before the input files were looked at, so an op that asks for a rank stopped it
 * ("aten::size: the rank of self is not known"). A file named after an input now gives that input's
 * shape to the archive; a positional file (input_0.npy) gives its shape to the argument it feeds, the
 * other model's N-th input (QA s20; it needed the flag until then).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './run-cli.js';

const temp = mkdtempSync(join(tmpdir(), 'modelpass-compare-pt-files-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));
const archive = join(temp, 'pool.pt');
const named = join(temp, 'named');
const positional = join(temp, 'positional');

beforeAll(() => {
  mkdirSync(named);
  mkdirSync(positional);
  // adaptive_avg_pool2d of the input reads x.size() (the rank) while importing; Debian torch scripts it.
  const script = [
    'import sys, numpy as np, torch',
    'class Pool(torch.nn.Module):',
    '    def forward(self, x):',
    '        return torch.nn.functional.adaptive_avg_pool2d(x, 1) * 2.0',
    'torch.manual_seed(0); torch.jit.script(Pool().eval()).save(sys.argv[1])',
    'x = np.random.default_rng(0).standard_normal((2, 3, 9, 9)).astype(np.float32)',
    "np.save(sys.argv[2] + '/x.npy', x); np.save(sys.argv[3] + '/input_0.npy', x)",
  ].join('\n');
  // torch.jit.script reads the class's source, so the script is a file, not `-c`.
  writeFileSync(join(temp, 'make_pool.py'), script);
  execFileSync('/usr/bin/python3', [join(temp, 'make_pool.py'), archive, named, positional], { stdio: 'ignore', timeout: 120_000 });
}, 120_000);

describe('compare a .pt with --inputs and no --input-shape', () => {
  it('takes the archive input shape from a file named after the input, and agrees with its ONNX export', async () => {
    const onnx = join(temp, 'pool.onnx');
    const converted = await runCli(['convert', archive, '-o', onnx, '--input-shape', 'x=N,3,9,9']);
    expect(converted.code, converted.stderr).toBe(0);
    const result = await runCli(['compare', archive, onnx, '--inputs', named]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('inputs: x float32[2,3,9,9]');
    expect(result.stdout).toContain('verdict: agree');
    const single = await runCli(['compare', onnx, archive, '--inputs', join(named, 'x.npy')]);
    expect(single.code, single.stderr).toBe(0);
  }, 120_000);

  it('a positional file gives its shape to the argument it feeds (the ONNX model N-th input), said on stderr', async () => {
    const result = await runCli(['compare', archive, join(temp, 'pool.onnx'), '--inputs', positional]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain('x: [2,3,9,9] (the .pt records no input shapes; taken from the --inputs file input_0;');
    expect(result.stdout).toContain('verdict: agree');
    const given = await runCli(['compare', archive, join(temp, 'pool.onnx'), '--inputs', positional, '--input-shape', 'x=2,3,9,9']);
    expect(given.code, given.stderr).toBe(0);
    expect(given.stderr).not.toContain('records no input shapes');
  }, 120_000);
});
