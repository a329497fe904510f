import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { defineOp, ModelpassError } from '@modelpass/ir';
import {
  CrashReproducerInstrumentation,
  definePass,
  definePlugin,
  describePasses,
  loadPlugin,
  PASS_MANAGER_VERSION,
  PassFailure,
  PassRegistry,
  replayReproducer,
  runPipeline,
} from '@modelpass/pass-manager';
import { smallModel, testEnvironment } from './fixtures.js';

const packageRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const temp = mkdtempSync(join(tmpdir(), 'modelpass-plugins-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

// Plugins on disk import @modelpass/* like a third-party package would: through node_modules.
mkdirSync(join(temp, 'node_modules/@modelpass'), { recursive: true });
symlinkSync(packageRoot, join(temp, 'node_modules/@modelpass/pass-manager'), 'dir');
symlinkSync(resolve(packageRoot, '../ir'), join(temp, 'node_modules/@modelpass/ir'), 'dir');

/** The source of a plugin module: a pass that removes test.Identity via a contributed pattern. */
function pluginSource(name: string, range: string, exportStyle: 'default' | 'named' = 'default'): string {
  return `
import { defineOp } from '@modelpass/ir';
import { definePass, definePlugin } from '@modelpass/pass-manager';

const dropIdentity = {
  name: '${name}-drop-identity',
  ops: ['test.Identity'],
  rewrite(node, rewriter) {
    rewriter.replaceNode(node, [node.inputs[0]]);
    return true;
  },
};

const fail = definePass({
  name: '${name}-fail',
  summary: 'always fails',
  run() {
    throw new TypeError('plugin bug');
  },
});

const ${exportStyle === 'default' ? 'plugin' : 'thePlugin'} = definePlugin({
  name: '${name}',
  version: '1.2.0',
  passManager: '${range}',
  passes: [fail],
  ops: [defineOp({ op: '${name}.Thing', inputs: [{ name: 'x' }], outputs: [{ name: 'y' }] })],
  patterns: [dropIdentity],
});
${exportStyle === 'default' ? 'export default plugin;' : 'export { thePlugin as plugin };'}
`;
}

function writePluginFile(relative: string, source: string): string {
  const path = join(temp, relative);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, source);
  return path;
}

writeFileSync(join(temp, 'package.json'), JSON.stringify({ name: 'plugin-tests', type: 'module' }));

/** A pass standing in for canonicalize: applies the patterns plugins contributed. */
const applyPluginPatterns = definePass({
  name: 'apply-plugin-patterns',
  summary: 'a',
  async run(model, context) {
    const { PatternSet, applyPatternsGreedily } = await import('@modelpass/ir');
    const result = applyPatternsGreedily(model.graph, new PatternSet(context.patterns));
    return result.changed ? context.preserveNone() : context.preserveAll();
  },
});

const addIdentity = definePass({
  name: 'add-identity',
  summary: 'x',
  run(model) {
    const relu = model.graph.nodeList()[0]!;
    const identity = model.graph.createNode({ op: 'test.Identity', inputs: [relu.output()], after: relu });
    model.graph.nodeList()[2]!.setInput(0, identity.output());
  },
});

function environment() {
  return testEnvironment(new PassRegistry([applyPluginPatterns, addIdentity], '@modelpass/test'));
}

describe('definePlugin', () => {
  it('returns a frozen plain value and registers nothing', () => {
    const pass = definePass({ name: 'p-pass', summary: 's', run() {} });
    const plugin = definePlugin({ name: 'p', version: '1.0.0', passManager: '*', passes: [pass] });
    expect(Object.isFrozen(plugin)).toBe(true);
    expect(Object.isFrozen(plugin.passes)).toBe(true);
    expect(plugin).toMatchObject({ kind: 'modelpass.plugin', name: 'p', ops: [], patterns: [] });
  });

  it('checks the shape', () => {
    expect(() => definePlugin({ name: 'p', version: 'one', passManager: '*' })).toThrow("invalid plugin 'p': the version must be a semver version");
    expect(() => definePlugin({ name: 'p', version: '1.0.0', passManager: 'latest' })).toThrow("'passManager' must be a semver range");
    expect(() => definePlugin({ name: 'p', version: '1.0.0', passManager: '*', passes: [{ name: 'x' } as never] })).toThrow('passes[0] was not made by definePass');
    expect(() => definePlugin({ name: 'Bad Name', version: '1.0.0', passManager: '*' })).toThrow('npm-style package name');
  });
});

describe('plugins in an environment', () => {
  it('adds passes, ops and patterns (exposed as context.patterns) and wraps plugin errors', async () => {
    const path = writePluginFile('file-plugin/plugin.js', pluginSource('demo', `^${PASS_MANAGER_VERSION}`));
    const env = environment();
    const plugin = await env.load('./file-plugin/plugin.js', { cwd: temp });
    expect(plugin.name).toBe('demo');
    expect(env.plugins).toEqual([{ name: 'demo', version: '1.2.0', specifier: './file-plugin/plugin.js', path }]);
    expect(env.passes.ownerOf('demo-fail')).toEqual({ name: 'demo', plugin: { name: 'demo', version: '1.2.0' } });
    expect(env.ops.has('demo.Thing')).toBe(true);
    expect(env.patterns.list().map((p) => p.name)).toEqual(['demo-drop-identity']);
    expect(describePasses(env.passes).find((d) => d.name === 'demo-fail')).toMatchObject({ owner: 'demo', plugin: 'demo' });

    const model = smallModel();
    await runPipeline(model, 'add-identity,apply-plugin-patterns', { environment: env });
    expect(model.graph.nodeList().map((n) => n.op)).toEqual(['test.Relu', 'test.Neg']);

    const error = (await runPipeline(smallModel(), 'demo-fail', { environment: env }).catch((e: unknown) => e)) as PassFailure;
    expect(error).toBeInstanceOf(PassFailure);
    expect(error.reason).toBe("pass 'demo-fail' from plugin 'demo'@1.2.0 failed: plugin bug");
    expect(error.plugin).toBe('demo');
    expect(error.diagnostics[0]!.source).toBe('demo');
    expect((error.cause as Error).name).toBe('TypeError');
  });

  it('names the plugin and pattern when a contributed pattern throws', async () => {
    const env = environment();
    env.use(
      definePlugin({
        name: 'buggy-patterns',
        version: '0.0.1',
        passManager: '*',
        patterns: [{ name: 'explode-on-relu', ops: ['test.Relu'], rewrite: () => { throw new Error('oops'); } }],
      }),
    );
    const error = (await runPipeline(smallModel(), 'apply-plugin-patterns', { environment: env }).catch((e: unknown) => e)) as PassFailure;
    expect(error.reason).toBe("pass 'apply-plugin-patterns' failed: rewrite pattern 'explode-on-relu' from plugin 'buggy-patterns' failed: oops");
    expect(error.location).toMatchObject({ node: 'relu' });
  });

  it('registers all of a plugin or nothing of it', () => {
    const env = environment();
    const clashing = definePlugin({
      name: 'clashing',
      version: '1.0.0',
      passManager: '*',
      ops: [defineOp({ op: 'clash.Op', inputs: [], outputs: [{ name: 'y' }] })],
      passes: [definePass({ name: 'add-identity', summary: 'again', run() {} })],
    });
    expect(() => env.use(clashing)).toThrow("pass 'add-identity' is registered twice: by '@modelpass/test' and by plugin 'clashing'@1.0.0");
    expect(env.ops.has('clash.Op')).toBe(false);
    expect(env.plugins).toEqual([]);
  });

  it('says a plugin used twice is already in use (not that its first pass is registered twice)', () => {
    const env = environment();
    const plugin = definePlugin({ name: 'twice', version: '1.0.0', passManager: '*', passes: [definePass({ name: 'twice-pass', summary: 's', run() {} })] });
    env.use(plugin);
    const error = (() => { try { env.use(plugin); } catch (e) { return e as ModelpassError; } return undefined; })();
    expect(error?.message).toMatch(/^plugin 'twice'@1\.0\.0 is already in use in this environment: 'twice'@1\.0\.0\n/);
    expect(error?.diagnostics[0]!.code).toBe('plugin/duplicate');
    expect(env.plugins.map((p) => p.name)).toEqual(['twice']);
  });

  it('rejects a plugin built for another pass manager version', async () => {
    writePluginFile('future/plugin.js', pluginSource('future', '^99.0.0'));
    const error = (await loadPlugin('./future/plugin.js', { cwd: temp }).catch((e: unknown) => e)) as ModelpassError;
    expect(error.reason).toBe(`plugin 'future'@1.2.0 requires @modelpass/pass-manager ^99.0.0, but this is ${PASS_MANAGER_VERSION}`);
    expect(() => environment().use(definePlugin({ name: 'old', version: '1.0.0', passManager: '<0.1.0' }))).toThrow('requires @modelpass/pass-manager <0.1.0');
  });
});

describe('loadPlugin', () => {
  it('loads a folder with a package.json, and a package by name from cwd, with a named export', async () => {
    const folder = join(temp, 'folder-plugin');
    writePluginFile('folder-plugin/dist/main.js', pluginSource('folder-demo', '*', 'named'));
    writeFileSync(join(folder, 'package.json'), JSON.stringify({ name: 'folder-demo', type: 'module', exports: { '.': { types: './x.d.ts', import: './dist/main.js' } } }));
    const byFolder = await loadPlugin('./folder-plugin', { cwd: temp });
    expect(byFolder.plugin.name).toBe('folder-demo');
    expect(byFolder.path).toBe(join(folder, 'dist/main.js'));

    // Installed the way npm links a workspace package: node_modules/@acme/modelpass-plugin → acme-src.
    // (Linked, because the test runner would hand a file really inside node_modules to Node with
    // the 'source' condition, which points @modelpass/* at TypeScript.)
    const installed = join(temp, 'acme-src');
    writePluginFile('acme-src/index.js', pluginSource('acme', '*'));
    writeFileSync(join(installed, 'package.json'), JSON.stringify({ name: '@acme/modelpass-plugin', type: 'module', main: 'index.js' }));
    mkdirSync(join(temp, 'node_modules/@acme'), { recursive: true });
    symlinkSync(installed, join(temp, 'node_modules/@acme/modelpass-plugin'), 'dir');
    const nested = join(temp, 'project/sub');
    mkdirSync(nested, { recursive: true });
    const byName = await loadPlugin('@acme/modelpass-plugin', { cwd: nested });
    expect(byName.plugin.name).toBe('acme');
    expect(byName.path).toBe(join(installed, 'index.js'));
  });

  it('explains what is wrong with things that are not plugins', async () => {
    writePluginFile('not-plugin/fn.js', 'export default function setup() {}\n');
    await expect(loadPlugin('./not-plugin/fn.js', { cwd: temp })).rejects.toThrow(
      "'./not-plugin/fn.js' is not a modelpass plugin: expected an object from definePlugin, got a function 'setup'",
    );
    writePluginFile('not-plugin/plain.js', "export default { name: 'x', version: '1.0.0', passes: [] };\n");
    const plain = (await loadPlugin('./not-plugin/plain.js', { cwd: temp }).catch((e: unknown) => e)) as ModelpassError;
    expect(plain.message).toContain('got an object with keys name, version, passes');
    expect(plain.diagnostics[0]!.hint).toContain('definePlugin');
    writePluginFile('not-plugin/none.js', 'export const other = 1;\n');
    await expect(loadPlugin('./not-plugin/none.js', { cwd: temp })).rejects.toThrow("got nothing (the module has no default export and no 'plugin' export; its exports: other)");
    writePluginFile('not-plugin/syntax.js', 'export default {\n');
    await expect(loadPlugin('./not-plugin/syntax.js', { cwd: temp })).rejects.toThrow("cannot load plugin './not-plugin/syntax.js': importing");
    await expect(loadPlugin('./missing.js', { cwd: temp })).rejects.toThrow(`cannot load plugin './missing.js': '${join(temp, 'missing.js')}' does not exist`);
    await expect(loadPlugin('modelpass-plugin-nowhere', { cwd: temp })).rejects.toThrow("package 'modelpass-plugin-nowhere' is not installed");
  });

  it('says why a CommonJS plugin in a folder without node_modules cannot require the host packages', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'modelpass-cjs-plugin-'));
    writeFileSync(join(folder, 'plugin.cjs'), "const { definePlugin } = require('@modelpass/pass-manager');\nmodule.exports = definePlugin({ name: 'cjs', version: '1.0.0', passes: [] });\n");
    const error = (await loadPlugin('./plugin.cjs', { cwd: folder }).catch((e: unknown) => e)) as ModelpassError;
    expect(error.message).toContain("its require('@modelpass/pass-manager') found no copy (the host shares its @modelpass packages with ES modules only)");
    expect(error.message).not.toContain('Require stack');
    expect(error.diagnostics[0]!.hint).toContain('write the plugin as an ES module');
    rmSync(folder, { recursive: true, force: true });
  });
});

describe('reproducers with plugins', () => {
  it('records the loaded plugins and loads them again on replay', async () => {
    writePluginFile('repro-plugin/plugin.js', pluginSource('repro', '*'));
    const env = environment();
    await env.load('./repro-plugin/plugin.js', { cwd: temp });
    const directory = join(temp, 'repro-crash');
    const error = (await runPipeline(smallModel(), 'add-identity,repro-fail', { environment: env, instrumentations: [new CrashReproducerInstrumentation({ directory })] }).catch(
      (e: unknown) => e,
    )) as PassFailure;
    expect(error.plugin).toBe('repro');
    expect(JSON.parse(readFileSync(join(directory, 'plugins.json'), 'utf8'))).toEqual([
      { name: 'repro', version: '1.2.0', specifier: './repro-plugin/plugin.js', path: join(temp, 'repro-plugin/plugin.js') },
    ]);
    // A fresh environment without the plugin: replay loads it from the recorded path.
    const replayed = (await replayReproducer(directory, { environment: environment() }).catch((e: unknown) => e)) as PassFailure;
    expect(replayed).toBeInstanceOf(PassFailure);
    expect(replayed.message).toBe(error.message.split('\n  note: a reproducer')[0]);
  });
});
