/**
 * The tarball-content checks of lib/tarball-contents.mjs on small hand-made package folders: each
 * reports what the old manifests shipped (maps pointing at ../src, a `source` condition naming an
 * unshipped file, tests in src) and is quiet when the files are there.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, test } from 'node:test';
import { listFiles, missingManifestTargets, shippedTests, unresolvedSourceMaps } from '../lib/tarball-contents.mjs';

const temp = realpathSync(mkdtempSync(join(tmpdir(), 'modelpass-tarball-contents-')));
after(() => rmSync(temp, { recursive: true, force: true }));

let count = 0;
function folder(contents) {
  const root = join(temp, `package-${count++}`);
  for (const [path, text] of Object.entries(contents)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), typeof text === 'string' ? text : JSON.stringify(text));
  }
  return root;
}

const map = (file, sources, extra = {}) => ({ version: 3, file, sources, mappings: 'AAAA', ...extra });
const dist = {
  'dist/index.js': 'export {};\n//# sourceMappingURL=index.js.map',
  'dist/index.js.map': map('index.js', ['../src/index.ts']),
  'dist/index.d.ts': 'export {};\n//# sourceMappingURL=index.d.ts.map',
  'dist/index.d.ts.map': map('index.d.ts', ['../src/index.ts']),
};

test('maps whose sources are not shipped are reported, each source once per map', () => {
  const root = folder(dist);
  assert.deepEqual(unresolvedSourceMaps(root), [
    'dist/index.d.ts.map: source ../src/index.ts (src/index.ts) is not in the tarball',
    'dist/index.js.map: source ../src/index.ts (src/index.ts) is not in the tarball',
  ]);
});

test('maps resolve once src ships; sourceRoot is honoured and sourcesContent stands for a missing file', () => {
  assert.deepEqual(unresolvedSourceMaps(folder({ ...dist, 'src/index.ts': 'export {};' })), []);
  const root = folder({
    'dist/a.js': 'export {};',
    'dist/a.js.map': map('a.js', ['a.ts'], { sourceRoot: '../lib/' }),
    'dist/b.js': 'export {};',
    'dist/b.js.map': map('b.js', ['../src/b.ts'], { sourcesContent: ['export {};'] }),
    'lib/a.ts': 'export {};',
  });
  assert.deepEqual(unresolvedSourceMaps(root), []);
});

test('a map pointing outside the package, a dangling sourceMappingURL and a wrong "file" are reported', () => {
  const root = folder({
    'dist/a.js': 'export {};\n//# sourceMappingURL=a.js.map',
    'dist/a.js.map': map('a.js', ['../../shared/a.ts']),
    'dist/b.js': 'export {};\n//# sourceMappingURL=b.js.map',
    'dist/c.js.map': map('gone.js', []),
  });
  assert.deepEqual(unresolvedSourceMaps(root), [
    'dist/a.js.map: source ../../shared/a.ts points outside the package',
    'dist/b.js: sourceMappingURL b.js.map is not in the tarball',
    'dist/c.js.map: its "file" gone.js is not in the tarball',
  ]);
});

const manifest = {
  name: '@modelpass/example',
  exports: {
    '.': { source: './src/index.ts', types: './dist/index.d.ts', import: './dist/index.js', default: './dist/index.js' },
    './worker': { node: { source: './src/worker.ts', import: './dist/worker.js' } },
    './internal/*': null,
    './schema/*.json': './schema/*.json',
    './package.json': './package.json',
  },
  bin: { example: './bin/example.js' },
};

test('every exports condition target, nested ones and patterns included, and each bin must be shipped', () => {
  const files = listFiles(folder({ ...dist, 'dist/worker.js': '', 'package.json': '{}' }));
  assert.deepEqual(missingManifestTargets(manifest, files), [
    "exports['.'].source: ./src/index.ts is not in the tarball",
    "exports['./worker'].node.source: ./src/worker.ts is not in the tarball",
    "exports['./schema/*.json']: ./schema/*.json matches no file in the tarball",
    'bin.example: ./bin/example.js is not in the tarball',
  ]);
  const complete = listFiles(folder({ ...dist, 'dist/worker.js': '', 'package.json': '{}', 'src/index.ts': '', 'src/worker.ts': '', 'schema/report.v1.json': '{}', 'bin/example.js': '' }));
  assert.deepEqual(missingManifestTargets(manifest, complete), []);
});

test('a sugar exports string and a bare main are checked too', () => {
  assert.deepEqual(missingManifestTargets({ name: 'x', exports: './dist/index.js', main: 'dist/main.js' }, new Set(['dist/index.js'])), [
    'main: ./dist/main.js is not in the tarball',
  ]);
  assert.deepEqual(missingManifestTargets({ name: 'x', exports: './dist/index.js' }, new Set()), ["exports['.']: ./dist/index.js is not in the tarball"]);
});

test('tests and their data in src or dist are reported; ordinary sources and the scaffold templates are not', () => {
  const files = new Set([
    'src/index.ts', 'src/testing.ts', 'src/latest.ts', 'src/__tests__/fixtures/a.mpir', 'src/__tests__/make.py',
    'src/pass.test.ts', 'dist/pass.test.js', 'dist/pass.test.js.map', 'dist/pass.test.d.ts', 'src/contest.ts', 'src/x.spec.ts',
    'templates/package/src/__tests__/golden.test.ts.tmpl',
  ]);
  assert.deepEqual(shippedTests(files), [
    'dist/pass.test.d.ts', 'dist/pass.test.js', 'dist/pass.test.js.map', 'src/__tests__/fixtures/a.mpir', 'src/__tests__/make.py', 'src/pass.test.ts', 'src/x.spec.ts',
  ]);
});
