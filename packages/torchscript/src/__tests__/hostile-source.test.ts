/**
 * TorchScript source made by hand to exhaust the importer (QA s9): brackets, calls, `not`s and
 * blocks nested thousands deep, and an operator chain 100,000 long. Each is a ModelpassError naming
 * the archive (and the place, where the parser sees it), never a stack overflow surfacing as an
 * internal error.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ModelpassError } from '@modelpass/ir';
import { MAX_SOURCE_NESTING, parseTorchScript, readTorchScript } from '@modelpass/torchscript';
import { archiveWithForward } from './hostile/forward-archive.js';

const dir = mkdtempSync(join(tmpdir(), 'modelpass-hostile-source-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function errorOf(run: () => unknown): ModelpassError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ModelpassError);
    return error as ModelpassError;
  }
  throw new Error('expected a ModelpassError');
}

const DEEP: Array<[string, string]> = [
  ['parentheses', `    return ${'('.repeat(20_000)}x${')'.repeat(20_000)}`],
  ['calls', `    return ${'torch.relu('.repeat(5_000)}x${')'.repeat(5_000)}`],
  ['not', `    y = ${'not '.repeat(5_000)}True\n    return x`],
  ['unary minus', `    return ${'-'.repeat(5_000)}x`],
  ['blocks', `${Array.from({ length: 300 }, (_, i) => `${'  '.repeat(i + 2)}if True:`).join('\n')}\n${'  '.repeat(302)}x = x\n    return x`],
];

describe.each(DEEP)('source nested thousands deep: %s', (name, body) => {
  it(`is refused at its place, past ${MAX_SOURCE_NESTING} levels`, () => {
    const path = archiveWithForward(dir, name.replace(/ /g, '_'), body);
    const error = errorOf(() => readTorchScript(path, { inputs: [{ shape: [2, 3] }] }));
    expect(error.message).toMatch(new RegExp(`code/__torch__\\.py:\\d+:\\d+: TorchScript source nests deeper than ${MAX_SOURCE_NESTING} levels`));
  });
});

it('parses source nested as deep as the limit allows', () => {
  const depth = MAX_SOURCE_NESTING - 10;
  const file = parseTorchScript(`y = ${'('.repeat(depth)}1${')'.repeat(depth)}\n`, 'ok.py');
  expect(file.statements).toHaveLength(1);
});

it('an operator chain 100,000 long (flat to the parser, deep to the interpreter) is a ModelpassError naming the archive', () => {
  const path = archiveWithForward(dir, 'chain', `    return x${' + x'.repeat(100_000)}`);
  const error = errorOf(() => readTorchScript(path, { inputs: [{ shape: [2, 3] }] }));
  expect(error.message).toContain('chain.pt');
  expect(error.message).toMatch(/nests too deeply to import/);
});
