/**
 * QA s15 round 8: `replay` without --allow-plugins listed a plugins.json entry that is no plugin record
 * as "'undefined'@undefined from (passed in code)", and a plugins.json that is no list as "names plugins"
 * (exit 2). Entries are now shown as written, and a plugins.json that is no list is reported as a broken
 * reproducer (exit 1) — nothing is loaded in either case.
 */
import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { GraphBuilder, printModel, tensorType } from '@modelpass/ir';
import { spawnCli } from './run-cli.js';

const temp = realpathSync(mkdtempSync(join(tmpdir(), 'modelpass-replay-plugins-json-')));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

function reproducer(name: string, pluginsJson: string): string {
  const dir = join(temp, name);
  mkdirSync(dir);
  const g = new GraphBuilder();
  g.output(g.op1('onnx.Relu', [g.input('x', tensorType('float32', [1, 4]))], {}, { name: 'relu' }));
  writeFileSync(join(dir, 'input.mpir'), printModel(g.model({ onnx: 17 })));
  writeFileSync(join(dir, 'pipeline.txt'), 'canonicalize\n');
  writeFileSync(join(dir, 'plugins.json'), pluginsJson);
  return dir;
}

describe('replay of a reproducer with a malformed plugins.json', () => {
  it('lists entries that are no plugin records as written (exit 2, nothing loaded)', () => {
    const run = spawnCli(['replay', reproducer('entries', '["../../evil.mjs", 5]')], temp);
    expect(run.code, run.stderr).toBe(2);
    expect(run.stderr).toContain('  - [0] "../../evil.mjs" (not a plugin record)\n  - [1] 5 (not a plugin record)');
    expect(run.stderr).not.toContain('undefined');
  });

  it('reports a plugins.json that is no list as a broken reproducer (exit 1)', () => {
    const run = spawnCli(['replay', reproducer('object', '{"a": 1}')], temp);
    expect(run.code, run.stderr).toBe(1);
    expect(run.stderr).toContain('is not a modelpass reproducer: plugins.json is not a JSON array of plugins (not an array)');
  });
});
