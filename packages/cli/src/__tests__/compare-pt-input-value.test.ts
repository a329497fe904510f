/**
 * QA s17 round 14, item 1: `compare a.onnx b.pt --input-value k=…` where b.pt was converted from a.onnx with the same
 * --input-value (so its forward no longer takes k). The inputs fixed by --input-value used to be lent to the archive and
 * paired by position, so k's dtype and shape went to the next forward argument (silero legacy's `sr` → `h`) or the
 * counts differed ("takes 3 and 2", silero v5/v6). They now take no position; an archive converted without
 * --input-value still takes k and is paired as before.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runCli } from './run-cli.js';

let work: string;
beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'modelpass-compare-pt-input-value-'));
  const script = join(work, 'make.py');
  // z = x·k − y with an int64 scalar k: k between the tensors (silero legacy's sr), last (v5/v6), and with input names
  // that are not Python identifiers (the archive's forward names them otherwise; reading gives them their names back).
  writeFileSync(
    script,
    `import sys, onnx
from onnx import helper, TensorProto as T
def model(order, name, x='x', y='y'):
    ins = {'x': helper.make_tensor_value_info(x, T.FLOAT, [2, 3]),
           'k': helper.make_tensor_value_info('k', T.INT64, []),
           'y': helper.make_tensor_value_info(y, T.FLOAT, [2, 3])}
    nodes = [helper.make_node('Cast', ['k'], ['kf'], to=T.FLOAT),
             helper.make_node('Mul', [x, 'kf'], ['xk']),
             helper.make_node('Sub', ['xk', y], ['z'])]
    g = helper.make_graph(nodes, 'g', [ins[n] for n in order], [helper.make_tensor_value_info('z', T.FLOAT, [2, 3])])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid('', 13)])
    m.ir_version = 7
    onnx.checker.check_model(m)
    onnx.save(m, sys.argv[1] + '/' + name)
model(['x', 'k', 'y'], 'middle.onnx')
model(['x', 'y', 'k'], 'last.onnx')
model(['x', 'k', 'y'], 'renamed.onnx', 'x:0', 'y:0')
`,
  );
  execFileSync('/usr/bin/python3', [script, work], { stdio: ['ignore', 'ignore', 'inherit'] });
  for (const name of ['middle', 'last', 'renamed']) {
    const converted = await runCli(['convert', join(work, `${name}.onnx`), '-o', join(work, `${name}.pt`), '--input-value', 'k=3']);
    expect(converted.code, converted.stderr).toBe(0);
  }
  const plain = await runCli(['convert', join(work, 'middle.onnx'), '-o', join(work, 'plain.pt')]);
  expect(plain.code, plain.stderr).toBe(0);
}, 180_000);
afterAll(() => rmSync(work, { recursive: true, force: true }));

it.each([
  ['middle', false],
  ['middle', true],
  ['last', false],
  ['last', true],
  ['renamed', false],
  ['renamed', true],
])('compare %s.onnx and its .pt converted with --input-value k=3 (archive first: %s): agree', async (name, archiveFirst) => {
  const models = [join(work, `${name}.onnx`), join(work, `${name}.pt`)];
  if (archiveFirst) models.reverse();
  const result = await runCli(['compare', ...models, '--input-value', 'k=3', '--json']);
  expect(result.code, result.stdout + result.stderr).toBe(0);
  const verdict = JSON.parse(result.stdout);
  expect(verdict).toMatchObject({ verdict: 'agree' });
  expect(verdict.perOutput[0].maxAbsError).toBe(0);
  // k is fed to the .onnx only: nothing of it is lent to the archive.
  expect(result.stderr).not.toMatch(/modelpass: k: /);
  // The archive's forward names x:0 and y:0 input_0 and input_2, but it records their names and is read back with them
  // (s18): paired by name, not by position (compare-pt-pairing.test.ts pairs torch-made archives by position).
  if (name === 'renamed') expect(result.stderr).not.toContain('is fed by position');
}, 120_000);

it('an archive converted without --input-value still takes k, paired by name', async () => {
  const result = await runCli(['compare', join(work, 'middle.onnx'), join(work, 'plain.pt'), '--input-value', 'k=3', '--json']);
  expect(result.code, result.stdout + result.stderr).toBe(0);
  expect(JSON.parse(result.stdout)).toMatchObject({ verdict: 'agree' });
  expect(result.stderr).toContain('modelpass: k: int64 (the .pt records no input dtypes');
}, 120_000);
