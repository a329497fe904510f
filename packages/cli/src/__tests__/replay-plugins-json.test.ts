/**
 * QA s15 round 8: `replay` without --allow-plugins listed a plugins.json entry that is no plugin record
 * as "'undefined'@undefined from (passed in code)", and a plugins.json that is no list as "names plugins"
 * (exit 2). Entries are now shown as written, and a plugins.json that is no list is reported as a broken
 * reproducer (exit 1) — nothing is loaded in either case.
 */
import { existsSync, mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
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

// QA s16: with --allow-plugins the CLI imported the plugin files of plugins.json before replay checked the
// records and the folder, so a plugin's code ran for a reproducer that was then refused as malformed.
describe('replay --allow-plugins of a malformed reproducer', () => {
  /** A plugin file whose import leaves `marker` behind (its code ran). */
  function markingPlugin(name: string): { plugin: string; marker: string } {
    const plugin = join(temp, `${name}.mjs`);
    const marker = join(temp, `${name}.imported`);
    writeFileSync(plugin, `import { writeFileSync } from 'node:fs';\nwriteFileSync(${JSON.stringify(marker)}, 'x');\nexport default { name: '${name}', version: '1.0.0', passes: [] };\n`);
    return { plugin, marker };
  }

  it('imports nothing when a record is malformed', () => {
    const { plugin, marker } = markingPlugin('marks-record');
    const dir = reproducer('bad-record', JSON.stringify([{ name: 'marks-record', version: '1.0.0', path: plugin }, { name: 'other' }]));
    const run = spawnCli(['replay', dir, '--allow-plugins'], temp);
    expect(run.code, run.stderr).toBe(1);
    expect(run.stderr).toContain("plugin record [1] has no string 'version'");
    expect(existsSync(marker)).toBe(false);
  });

  it('imports nothing from a folder without input.mpir', () => {
    const { plugin, marker } = markingPlugin('marks-folder');
    const dir = reproducer('no-input', JSON.stringify([{ name: 'marks-folder', version: '1.0.0', path: plugin }]));
    rmSync(join(dir, 'input.mpir'));
    const run = spawnCli(['replay', dir, '--allow-plugins'], temp);
    expect(run.code, run.stderr).toBe(1);
    expect(run.stderr).toContain('is not a modelpass reproducer: input.mpir is missing');
    expect(existsSync(marker)).toBe(false);
  });
});
