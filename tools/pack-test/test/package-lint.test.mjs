/**
 * Every publishable package's tarball (what `npm publish` would upload) is clean for publint
 * (strict: warnings fail) and for are-the-types-wrong under its `esm-only` profile (the packages
 * are ESM-only, so the CommonJS `node10`/`node16-cjs` resolutions are out of scope), and follows
 * the packaging policy documented in the root README.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { publint } from 'publint';
import { formatMessage } from 'publint/utils';
import { packPackages, publishablePackages, REPO_ROOT, userEnvironment } from '../lib/packages.mjs';
import { listFiles, missingManifestTargets, shippedTests, unpackTarball, unresolvedSourceMaps } from '../lib/tarball-contents.mjs';

const temp = realpathSync(mkdtempSync(join(tmpdir(), 'modelpass-package-lint-')));
const packages = publishablePackages();
/** @type {Map<string, string>} */
let tarballs;
/** package name → the unpacked tarball's `package/` folder and its files */
const unpacked = new Map();
const attwResults = new Map();
/** The resolutions are-the-types-wrong's esm-only profile leaves out (CommonJS consumers: ESM-only packages need `import()` there). */
const ESM_ONLY_IGNORED = new Set(['node10', 'node16-cjs']);

after(() => rmSync(temp, { recursive: true, force: true }));

function attw(tarball) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(REPO_ROOT, 'node_modules/@arethetypeswrong/cli/dist/index.js'), tarball, '--profile', 'esm-only', '--format', 'json'], {
      env: userEnvironment(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

before(async () => {
  tarballs = packPackages(packages, temp);
  for (const [name, tarball] of tarballs) {
    const root = unpackTarball(tarball, join(temp, 'unpacked', name.replace(/^@/, '').replace('/', '-')));
    unpacked.set(name, { root, files: listFiles(root) });
  }
  // Two at a time: each run loads TypeScript, and CI machines have few cores.
  const queue = [...tarballs.entries()];
  const worker = async () => {
    for (let next = queue.shift(); next; next = queue.shift()) attwResults.set(next[0], await attw(next[1]));
  };
  await Promise.all([worker(), worker()]);
});

test('the publishable packages are the sixteen under packages/ (conformance and web are private)', () => {
  assert.deepEqual(
    packages.map((item) => item.name),
    [
      '@modelpass/cli', '@modelpass/create-pass', '@modelpass/distributed', '@modelpass/ir', '@modelpass/onnx', '@modelpass/ops', '@modelpass/pass-manager', '@modelpass/prune',
      '@modelpass/quantize', '@modelpass/report', '@modelpass/runtime', '@modelpass/testing', '@modelpass/tflite', '@modelpass/torchscript', '@modelpass/train', '@modelpass/transforms',
    ],
  );
});

for (const item of packages) {
  test(`${item.name}: publint (strict) reports nothing`, async () => {
    const bytes = readFileSync(tarballs.get(item.name));
    const tarball = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
    const { messages, pkg } = await publint({ pack: { tarball }, strict: true, level: 'suggestion' });
    assert.deepEqual(messages.map((message) => `${message.type}: ${formatMessage(message, pkg, { color: false })}`), []);
  });

  test(`${item.name}: are-the-types-wrong (esm-only) reports no problem`, () => {
    const result = attwResults.get(item.name);
    assert.equal(result.status, 0, result.stdout + result.stderr);
    const { analysis } = JSON.parse(result.stdout);
    assert.equal(analysis.types.kind, 'included', 'the package ships its own types');
    const inScope = analysis.problems.filter((problem) => !ESM_ONLY_IGNORED.has(problem.resolutionKind));
    assert.deepEqual(inScope, []);
  });

  test(`${item.name}: the tarball ships no tests (compiled into dist, or in the shipped src: __tests__, *.test.ts and their fixtures)`, () => {
    assert.deepEqual(shippedTests(unpacked.get(item.name).files), []);
  });

  test(`${item.name}: every source map's sources (and every sourceMappingURL) resolve to files in the tarball`, () => {
    const { root, files } = unpacked.get(item.name);
    assert.ok([...files].some((file) => file.endsWith('.js.map')), 'the tarball ships source maps (tsconfig.base.json sets sourceMap)');
    assert.deepEqual(unresolvedSourceMaps(root, files), []);
  });

  test(`${item.name}: every exports condition's target (source included), main/types and bin are files in the tarball`, () => {
    const { root, files } = unpacked.get(item.name);
    const shipped = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
    assert.deepEqual(missingManifestTargets(shipped, files), []);
  });

  test(`${item.name}: packaging policy (engines, license, description, typed ESM exports, no workspace-only fields)`, () => {
    const manifest = item.manifest;
    assert.equal(manifest.type, 'module');
    assert.equal(manifest.license, 'Apache-2.0');
    assert.equal(manifest.engines?.node, JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')).engines.node);
    assert.ok(typeof manifest.description === 'string' && manifest.description.length > 20, 'a description');
    assert.ok(manifest.files?.includes('dist'), 'files lists dist');
    const root = manifest.exports?.['.'];
    assert.equal(root?.types, './dist/index.d.ts');
    assert.equal(root?.import, './dist/index.js');
    // `default` too: Node ≥ 20.19 (our engines floor) can require() an ES module, but only through a
    // condition that require matches; without it a CommonJS caller gets 'No "exports" main defined'.
    for (const [subpath, target] of Object.entries(manifest.exports)) {
      if (typeof target === 'object' && target.import) assert.equal(target.default, target.import, `exports['${subpath}'].default`);
    }
    for (const [name, range] of Object.entries({ ...manifest.dependencies, ...manifest.peerDependencies })) {
      assert.doesNotMatch(String(range), /^(workspace:|file:|link:)/, `${name}: ${range} cannot be installed from a registry`);
    }
  });
}
