/**
 * create-pass refuses the names of built-in passes and pipeline anchors (a plugin pass named 'dce'
 * used to scaffold fine and then fail to load: "pass 'dce' is registered twice"). Its list is a copy;
 * this test compares it with the CLI's real registry so it cannot drift.
 */
import { mkdtempSync, readdirSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { builtinEnvironment } from '@modelpass/cli';
import { ANCHORS } from '@modelpass/pass-manager';
import { BUILTIN_PASSES, RESERVED_ANCHORS, ScaffoldError, scaffoldPassPackage } from '@modelpass/create-pass';

const temp = realpathSync(mkdtempSync(join(tmpdir(), 'create-pass-names-')));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

describe('built-in names', () => {
  it('match the CLI registry and the anchors exactly (paste the printed list into src/builtin-pass-names.ts when this fails)', () => {
    const real = builtinEnvironment().passes.list().map(({ pass, owner }) => [pass.name, owner.name] as const);
    const listing = real.map(([name, owner]) => `  ['${name}', '${owner}'],`).join('\n');
    expect([...BUILTIN_PASSES].map(([name, owner]) => `  ['${name}', '${owner}'],`).join('\n'), `the CLI registers:\n${listing}`).toBe(listing);
    expect([...RESERVED_ANCHORS].sort()).toEqual([...ANCHORS.keys()].sort());
  });

  it('refuses a built-in pass name, naming its package, and writes nothing', () => {
    let error: unknown;
    try {
      scaffoldPassPackage({ name: 'dce', cwd: temp });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ScaffoldError);
    expect((error as ScaffoldError).message).toContain("'dce' is the name of a built-in pass (from @modelpass/transforms)");
    expect((error as ScaffoldError).message).toContain('my-dce');
    expect(() => scaffoldPassPackage({ name: 'prune-channels', cwd: temp })).toThrow('(from @modelpass/prune)');
    expect(() => scaffoldPassPackage({ name: 'fixed-point', cwd: temp })).toThrow("'fixed-point' is a pipeline anchor");
    expect(readdirSync(temp)).toEqual([]);
  });
});
