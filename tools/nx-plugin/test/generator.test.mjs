// node --test test/: the generator called the way nx calls it, with an in-memory tree.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';

const require = createRequire(import.meta.url);
const generator = require('../pass-package/generator.cjs');
const generatorsJson = require('../generators.json');
const schema = require('../pass-package/schema.json');

/** The part of nx's Tree the generator may use, over a Map of path → content. */
class MemoryTree {
  constructor(files = {}) {
    this.root = '/virtual/workspace';
    this.files = new Map(Object.entries(files));
  }
  write(path, content) {
    this.files.set(path, String(content));
  }
  read(path, encoding) {
    const content = this.files.get(path);
    if (content === undefined) return null;
    return encoding ? content : Buffer.from(content);
  }
  exists(path) {
    return this.isFile(path) || this.children(path).length > 0;
  }
  isFile(path) {
    return this.files.has(path);
  }
  children(dir) {
    const prefix = dir.endsWith('/') ? dir : `${dir}/`;
    const names = new Set();
    for (const path of this.files.keys()) if (path.startsWith(prefix)) names.add(path.slice(prefix.length).split('/')[0]);
    return [...names];
  }
  delete(path) {
    for (const file of [...this.files.keys()]) if (file === path || file.startsWith(`${path}/`)) this.files.delete(file);
  }
}

describe('pass-package generator', () => {
  it('is what generators.json and the schema declare', () => {
    assert.equal(typeof generator, 'function');
    assert.equal(generator.default, generator);
    assert.equal(generatorsJson.generators['pass-package'].factory, './pass-package/generator.cjs');
    assert.deepEqual(schema.required, ['name']);
  });

  it('scaffolds packages/pass-<name> from create-pass templates, wired for the workspace, and a changeset', async () => {
    const tree = new MemoryTree();
    const callback = await generator(tree, { name: 'strip-identity' });
    assert.equal(typeof callback, 'function');
    assert.deepEqual([...tree.files.keys()].sort(), [
      '.changeset/pass-strip-identity.md',
      'packages/pass-strip-identity/.gitignore',
      'packages/pass-strip-identity/README.md',
      'packages/pass-strip-identity/fixtures/strip-identity/keeps-named/input.mpir',
      'packages/pass-strip-identity/fixtures/strip-identity/keeps-named/options.json',
      'packages/pass-strip-identity/fixtures/strip-identity/keeps-named/output.mpir',
      'packages/pass-strip-identity/fixtures/strip-identity/removes-identities/input.mpir',
      'packages/pass-strip-identity/fixtures/strip-identity/removes-identities/options.json',
      'packages/pass-strip-identity/fixtures/strip-identity/removes-identities/output.mpir',
      'packages/pass-strip-identity/package.json',
      'packages/pass-strip-identity/src/__tests__/golden.test.ts',
      'packages/pass-strip-identity/src/index.ts',
      'packages/pass-strip-identity/tsconfig.json',
      'packages/pass-strip-identity/vitest.config.ts',
    ]);

    const pkg = JSON.parse(tree.read('packages/pass-strip-identity/package.json', 'utf8'));
    assert.equal(pkg.name, '@modelpass/pass-strip-identity');
    assert.equal(pkg.type, 'module');
    assert.deepEqual(pkg.exports['.'], { source: './src/index.ts', types: './dist/index.d.ts', import: './dist/index.js' });
    assert.deepEqual(pkg.scripts, { build: 'tsc -b', test: 'vitest run' });
    assert.deepEqual(pkg.peerDependencies, { '@modelpass/ir': '^0.1.0', '@modelpass/pass-manager': '^0.1.0' });
    assert.deepEqual(pkg.devDependencies, { '@modelpass/ir': '0.1.0', '@modelpass/pass-manager': '0.1.0', '@modelpass/testing': '0.1.0' });
    assert.equal(pkg.overrides, undefined);

    const tsconfig = JSON.parse(tree.read('packages/pass-strip-identity/tsconfig.json', 'utf8'));
    assert.equal(tsconfig.extends, '../../tsconfig.base.json');
    assert.deepEqual(tsconfig.references, [{ path: '../../packages/ir' }, { path: '../../packages/pass-manager' }]);
    assert.equal(tree.read('packages/pass-strip-identity/vitest.config.ts', 'utf8'), "export { default } from '../../vitest.shared.js';\n");

    const index = tree.read('packages/pass-strip-identity/src/index.ts', 'utf8');
    assert.match(index, /export const stripIdentityPass = definePass\(\{\n  name: 'strip-identity'/);
    assert.match(index, /name: '@modelpass\/pass-strip-identity',\n  version: '0\.1\.0',\n  passManager: '\^0\.1\.0'/);
    assert.match(tree.read('packages/pass-strip-identity/src/__tests__/golden.test.ts', 'utf8'), /runGoldenCases\(\{/);
    assert.match(tree.read('.changeset/pass-strip-identity.md', 'utf8'), /^---\n"@modelpass\/pass-strip-identity": minor\n---\n/);
  });

  it('honours --directory and --packageName (paths back to the root follow the depth)', async () => {
    const tree = new MemoryTree();
    await generator(tree, { name: 'fold-scale', directory: 'examples/custom/pass-fold-scale/', packageName: 'modelpass-plugin-fold-scale' });
    const dir = 'examples/custom/pass-fold-scale';
    assert.equal(JSON.parse(tree.read(`${dir}/package.json`, 'utf8')).name, 'modelpass-plugin-fold-scale');
    assert.equal(JSON.parse(tree.read(`${dir}/tsconfig.json`, 'utf8')).extends, '../../../tsconfig.base.json');
    assert.equal(tree.read(`${dir}/vitest.config.ts`, 'utf8'), "export { default } from '../../../vitest.shared.js';\n");
    assert.ok(tree.exists(`${dir}/fixtures/fold-scale/removes-identities/input.mpir`));
    assert.match(tree.read('.changeset/pass-fold-scale.md', 'utf8'), /"modelpass-plugin-fold-scale": minor/);
  });

  it('refuses bad names, folders outside the workspace, and existing packages, writing nothing', async () => {
    for (const options of [{ name: 'Bad_Name' }, { name: '' }, { name: 'ok', directory: '../outside' }, { name: 'ok', directory: '/abs' }, { name: 'ok', packageName: 'Not A Name' }]) {
      const tree = new MemoryTree();
      await assert.rejects(generator(tree, options), /pass-package:/);
      assert.equal(tree.files.size, 0);
    }
    const tree = new MemoryTree({ 'packages/pass-taken/package.json': '{}' });
    await assert.rejects(generator(tree, { name: 'taken' }), /packages\/pass-taken already exists/);
    assert.deepEqual([...tree.files.keys()], ['packages/pass-taken/package.json']);
  });

  it('generates fixtures whose expected output is the input without the Identity nodes it removes', async () => {
    const tree = new MemoryTree();
    await generator(tree, { name: 'demo' });
    const at = (file) => tree.read(`packages/pass-demo/fixtures/demo/${file}`, 'utf8');
    assert.equal((at('removes-identities/input.mpir').match(/onnx\.Identity/g) ?? []).length, 2);
    assert.doesNotMatch(at('removes-identities/output.mpir'), /onnx\.Identity/);
    assert.deepEqual(JSON.parse(at('keeps-named/options.json')), { keep: ['id_a'] });
    assert.equal((at('keeps-named/output.mpir').match(/onnx\.Identity/g) ?? []).length, 1);
  });
});
