// Regression tests for the fuzzer's findings (tools/fuzz/findings/plugin-manifest, pipeline):
// hostile plugin definitions, package.json files and plugins.json records must give a
// ModelpassError naming what is wrong, and an absurd unknown pass name must be rejected fast.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { ModelpassError, printModel } from '@modelpass/ir';
import { closestName, definePlugin, editDistance, parsePipeline, replayReproducer, resolvePluginFile } from '@modelpass/pass-manager';
import { smallModel, testEnvironment } from './fixtures.js';

const findings = resolve(dirname(fileURLToPath(import.meta.url)), '../../../../tools/fuzz/findings');
const temp = mkdtempSync(join(tmpdir(), 'modelpass-fuzz-findings-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

/** The JSON of a saved plugin-manifest finding (`<kind>\n<json>`). */
function savedManifest(file: string): { kind: string; json: string } {
  const text = readFileSync(join(findings, 'plugin-manifest', file), 'utf8');
  const newline = text.indexOf('\n');
  return { kind: text.slice(0, newline), json: text.slice(newline + 1) };
}

function thrown(action: () => unknown): ModelpassError {
  try {
    action();
  } catch (error) {
    expect(ModelpassError.is(error), String(error)).toBe(true);
    return error as ModelpassError;
  }
  throw new Error('expected a ModelpassError, but nothing was thrown');
}

describe('definePlugin with list fields that are not arrays', () => {
  it.each([
    ['define-plugin-passes-is-a-number.txt', 'passes'],
    ['define-plugin-patterns-is-a-number.txt', 'patterns'],
    ['define-plugin-ops-is-a-number.txt', 'ops'],
  ])('%s names the plugin and the field', (file, field) => {
    const { kind, json } = savedManifest(file);
    expect(kind).toBe('definePlugin');
    const definition = JSON.parse(json) as { name: string };
    const error = thrown(() => definePlugin(definition as never));
    expect(error.reason).toBe(`invalid plugin '${definition.name}': '${field}' must be an array`);
    expect(error.message).toContain('number');
  });

  it('refuses a string (iterable, but not a list of passes) and an object', () => {
    const base = { name: 'p', version: '1.0.0', passManager: '*' };
    expect(thrown(() => definePlugin({ ...base, passes: 'abc' } as never)).reason).toBe("invalid plugin 'p': 'passes' must be an array");
    expect(thrown(() => definePlugin({ ...base, ops: {} } as never)).reason).toBe("invalid plugin 'p': 'ops' must be an array");
    expect(definePlugin({ ...base, passes: [], ops: undefined }).passes).toEqual([]);
  });
});

describe('resolvePluginFile keeps a package inside its folder', () => {
  function pluginPackage(manifest: string): { project: string; folder: string } {
    const project = mkdtempSync(join(temp, 'project-'));
    const folder = join(project, 'node_modules', 'fuzz-plugin');
    mkdirSync(join(folder, 'dist'), { recursive: true });
    writeFileSync(join(folder, 'index.js'), '');
    writeFileSync(join(folder, 'dist', 'index.js'), '');
    writeFileSync(join(folder, 'package.json'), manifest);
    return { project, folder };
  }

  it.each([
    ['package-json-exports-absolute-path.txt', `must start with './'`],
    ['package-json-exports-empty-string.txt', `must start with './'`],
    ['package-json-main-is-a-number.txt', 'the "main" field'],
  ])('%s is refused with a ModelpassError', (file, words) => {
    const { kind, json } = savedManifest(file);
    expect(kind).toBe('package.json');
    const { project } = pluginPackage(json);
    const error = thrown(() => resolvePluginFile('fuzz-plugin', project));
    expect(error.reason).toContain(words);
    expect(error.reason).toContain("cannot load plugin 'fuzz-plugin'");
  });

  it.each([
    ['exports escaping with ..', '{"exports":"./../../../../etc/hostname"}'],
    ['a conditional export escaping', '{"exports":{".":{"import":"./dist/../../x.js"}}}'],
    ['main escaping with ..', '{"main":"../../../../etc/hostname"}'],
    ['main absolute', '{"main":"/etc/hostname"}'],
  ])('refuses %s', (_what, manifest) => {
    const { project } = pluginPackage(manifest);
    expect(thrown(() => resolvePluginFile('fuzz-plugin', project)).reason).toContain('outside the package folder');
  });

  it('refuses a subpath that climbs out, and a package.json that is not an object', () => {
    const { project } = pluginPackage('{"main":"index.js"}');
    expect(thrown(() => resolvePluginFile('fuzz-plugin/../../../etc/hostname', project)).reason).toContain('outside the package folder');
    const other = pluginPackage('[1, 2]');
    expect(thrown(() => resolvePluginFile('fuzz-plugin', other.project)).reason).toContain('is not a JSON object');
  });

  it('still resolves ordinary entries, inside the folder', () => {
    for (const manifest of ['{"exports":"./dist/index.js"}', '{"exports":{".":{"import":"./dist/index.js"}}}', '{"main":"dist/index.js"}', '{"main":"./dist"}', '{}']) {
      const { project, folder } = pluginPackage(manifest);
      const file = resolvePluginFile('fuzz-plugin', project);
      expect(file.startsWith(folder + sep), `${manifest} → ${file}`).toBe(true);
    }
  });
});

describe('replay with a hostile plugins.json', () => {
  function reproducer(plugins: string): string {
    const directory = mkdtempSync(join(temp, 'reproducer-'));
    writeFileSync(join(directory, 'input.mpir'), printModel(smallModel()));
    writeFileSync(join(directory, 'pipeline.txt'), '');
    writeFileSync(join(directory, 'plugins.json'), plugins);
    return directory;
  }

  it.each([
    ['the saved [null] finding', savedManifest('plugins-json-null-record.txt').json, 'plugin record [0] is not an object'],
    ['a number record', '[3]', 'plugin record [0] is not an object'],
    ['a record without a name', '[{"version":"1.0.0"}]', "plugin record [0] has no string 'name'"],
    ['a record with a numeric version', '[{"name":"x","version":1}]', "plugin record [0] has no string 'version'"],
    ['a record with an object path', '[{"name":"x","version":"1.0.0","path":{}}]', "plugin record [0] has a 'path' that is not a string"],
  ])('%s gives a ModelpassError naming the file', async (_what, plugins, words) => {
    const directory = reproducer(plugins);
    const error = await replayReproducer(directory, { environment: testEnvironment() }).catch((e: unknown) => e);
    expect(ModelpassError.is(error), String(error)).toBe(true);
    expect((error as ModelpassError).reason).toBe(`'${join(directory, 'plugins.json')}': ${words}`);
  });
});

describe('did-you-mean stays cheap for huge names', () => {
  it('rejects the saved 60 000-character unknown pass name quickly', () => {
    const pipeline = readFileSync(join(findings, 'pipeline', 'slow-unknown-pass-name-60000-chars.txt'), 'utf8');
    const started = performance.now();
    const error = thrown(() => parsePipeline(pipeline.trim(), testEnvironment().passes));
    expect(performance.now() - started).toBeLessThan(500);
    expect(error.message).not.toContain('did you mean');
  });

  it('rejects a 30 000-character near-miss of a real name quickly', () => {
    const names = Array.from({ length: 200 }, (_, i) => `pass-number-${i}-${'x'.repeat(i % 40)}`);
    const typed = 'pass-number-7-'.repeat(2200);
    const started = performance.now();
    expect(closestName(typed, names)).toBeUndefined();
    expect(closestName('pass-nmuber-7-xxxxxxx', names)).toBe('pass-number-7-xxxxxxx');
    expect(performance.now() - started).toBeLessThan(500);
  });

  it('bounded editDistance agrees with the full one and stops past the bound', () => {
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(editDistance('kitten', 'sitting', 3)).toBe(3);
    expect(editDistance('kitten', 'sitting', 2)).toBe(3);
    expect(editDistance('ab', 'ba')).toBe(1);
    expect(editDistance('a'.repeat(100_000), 'b', 5)).toBe(6);
    expect(editDistance('', 'abc')).toBe(3);
    expect(editDistance('abc', '')).toBe(3);
  });
});
