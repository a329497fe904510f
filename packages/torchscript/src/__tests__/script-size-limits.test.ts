/**
 * Code that builds lists or strings without bound while importing (QA s13: `l = l + l` forty times in a
 * forward ran V8 out of heap — 'Fatal error', exit 133, 2.7 GB — instead of a ModelpassError; nested loops of
 * 1000 × 100000 steps ran for many minutes). The importer stops at MAX_SCRIPT_LIST_ITEMS items,
 * MAX_SCRIPT_STRING_LENGTH characters and MAX_IMPORT_LOOP_STEPS loop iterations in all, naming the line.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { ModelpassError } from '@modelpass/ir';
import { readTorchScript } from '@modelpass/torchscript';
import { archiveWithForward } from './hostile/forward-archive.js';

const dir = mkdtempSync(join(tmpdir(), 'modelpass-script-size-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function refusal(path: string): string {
  try {
    readTorchScript(path, { inputs: [{ shape: [2] }] });
  } catch (error) {
    expect(ModelpassError.is(error), String(error)).toBe(true);
    return (error as ModelpassError).message;
  }
  throw new Error(`${path} was read without an error`);
}

it.each([
  ['a list doubled 40 times', '    l = [x]\n    for i in range(40):\n      l = l + l\n    return torch.cat(l, 0)', /code\/__torch__\.py:9:\d+: '\+' would build a list of 2097152 items, more than the importer builds \(1048576\)/],
  ['a string doubled 40 times', '    t = "ab"\n    for i in range(40):\n      t = t + t\n    return x', /'\+' would build a string of 33554432 characters, more than the importer builds \(16777216\)/],
  ['nested loops of 1000 × 100000 steps', '    l = [1]\n    for i in range(1000):\n      for j in range(100000):\n        _0 = torch.append(l, j)\n    return x', /loops ran more than 200000 iterations in all while importing/],
])('%s is refused at the line that grows it, within bounded memory', (name, body, message) => {
  expect(refusal(archiveWithForward(dir, name.replace(/\W+/g, '-'), body))).toMatch(message);
}, 60_000);

it('a list of ordinary length still imports', () => {
  const model = readTorchScript(archiveWithForward(dir, 'ordinary', '    l = [x]\n    for i in range(3):\n      l = l + l\n    return torch.cat(l, 0)'), { inputs: [{ shape: [2] }] });
  expect(model.graph.outputs[0]!.type).toMatchObject({ shape: [16] });
});
