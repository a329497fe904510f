/**
 * Plugins outside the repository: files written into a temp folder import `@modelpass/*` and the
 * built CLI (spawned as a user would) must hand them its own copies — the README's example verbatim,
 * a published plugin package with peer dependencies (same module instances as the CLI), one that
 * bundles its own copies (keeps them), and plugins named by a crash reproducer.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { binPath, repoRoot, spawnCli } from './run-cli.js';

const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
/** The README's `my-plugin.mjs` block and the pipeline of the command that loads it, verbatim. */
const readmePlugin = /```js\n(\/\/ my-plugin\.mjs\n[\s\S]*?)```/.exec(readme)?.[1];
const readmePipeline = /--plugin \.\/my-plugin\.mjs --pipeline '([^']+)'/.exec(readme)?.[1];

const DOCUMENTED = `model ir_version=8 opsets{onnx=17} {
graph @main(%x: float32[2]) doc="the graph" {
  %a: float32[2] = onnx.Relu(%x) name="r1" doc="first relu"
  %y: float32[2] = onnx.Neg(%a) name="neg" doc="negate"
  return %y
}
}
`;

let temp: string;
beforeAll(() => {
  expect(existsSync(binPath), `${binPath} is missing: build the CLI first (npx nx run @modelpass/cli:build)`).toBe(true);
  // realpath: the temp folder must not be reachable through the repository (e.g. a tmp/ symlink).
  temp = realpathSync(mkdtempSync(join(tmpdir(), 'modelpass-plugin-anywhere-')));
  expect(temp.startsWith(repoRoot)).toBe(false);
  writeFileSync(join(temp, 'documented.mpir'), DOCUMENTED);
});
afterAll(() => rmSync(temp, { recursive: true, force: true }));

/** A plugin whose pass counts whether the model it gets is an instance of the `Model` class it imported. */
function identityProbe(name: string): string {
  return `import { Model } from '@modelpass/ir';
import { definePass, definePlugin } from '@modelpass/pass-manager';
const probe = definePass({
  name: '${name}-probe',
  summary: 'reports whether it shares @modelpass/ir with the CLI',
  statistics: ['same-ir-instance', 'other-ir-instance'],
  run(model, context) {
    context.statistic(model instanceof Model ? 'same-ir-instance' : 'other-ir-instance');
    return context.preserveAll();
  },
});
export default definePlugin({ name: '${name}', version: '1.0.0', passManager: '^0.1.0', passes: [probe] });
`;
}

/** A copy (not a link) of a built workspace package, as npm would install it. */
function installCopy(nodeModules: string, name: 'ir' | 'pass-manager'): void {
  const target = join(nodeModules, '@modelpass', name);
  mkdirSync(target, { recursive: true });
  cpSync(join(repoRoot, 'packages', name, 'package.json'), join(target, 'package.json'));
  cpSync(join(repoRoot, 'packages', name, 'dist'), join(target, 'dist'), { recursive: true });
  // Its third-party dependencies too (pass-manager needs semver), as npm would install them beside it.
  const manifest = JSON.parse(readFileSync(join(target, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> };
  for (const dependency of Object.keys(manifest.dependencies ?? {})) {
    if (dependency.startsWith('@modelpass/') || existsSync(join(nodeModules, dependency))) continue;
    cpSync(realpathSync(join(repoRoot, 'node_modules', dependency)), join(nodeModules, dependency), { recursive: true });
  }
}

function writePluginPackage(nodeModules: string, name: string, dependencyField: 'peerDependencies' | 'dependencies'): void {
  const folder = join(nodeModules, name);
  mkdirSync(folder, { recursive: true });
  const manifest = { name, version: '1.0.0', type: 'module', exports: './index.js', [dependencyField]: { '@modelpass/ir': '^0.1.0', '@modelpass/pass-manager': '^0.1.0' } };
  writeFileSync(join(folder, 'package.json'), JSON.stringify(manifest, null, 2));
  writeFileSync(join(folder, 'index.js'), identityProbe(name));
}

function statistic(stderr: string, name: string): number | undefined {
  const match = new RegExp(`\\(S\\) (\\d+) ${name}\\b`).exec(stderr);
  return match ? Number(match[1]) : undefined;
}

describe("the README's my-plugin.mjs in a folder outside the repository", () => {
  beforeAll(() => {
    expect(readmePlugin, "README.md's my-plugin.mjs block").toBeDefined();
    expect(readmePipeline, "README.md's --plugin ./my-plugin.mjs command").toBeDefined();
    writeFileSync(join(temp, 'my-plugin.mjs'), readmePlugin!);
  });

  it('loads with the built CLI called by absolute path, from that folder', () => {
    const out = join(temp, 'out.mpir');
    const result = spawnCli(['convert', 'documented.mpir', '-o', out, '--plugin', './my-plugin.mjs', '--pipeline', readmePipeline!, '--statistics'], temp);
    expect(result.code, result.stderr).toBe(0);
    expect(statistic(result.stderr, 'doc-strings-removed')).toBe(2);
    expect(readFileSync(out, 'utf8')).not.toMatch(/doc=/);
  });

  it('loads with `npx modelpass` run from the repository', () => {
    const out = join(temp, 'out-npx.mpir');
    const result = spawnSync('npx', ['--no-install', 'modelpass', 'convert', join(temp, 'documented.mpir'), '-o', out, '--plugin', join(temp, 'my-plugin.mjs'), '--pipeline', readmePipeline!, '--statistics'], {
      cwd: repoRoot,
      encoding: 'utf8',
      timeout: 120_000,
    });
    expect(result.status, result.stderr).toBe(0);
    expect(statistic(result.stderr, 'doc-strings-removed')).toBe(2);
  });
});

describe('plugin packages installed in a project outside the repository', () => {
  let project: string;
  beforeAll(() => {
    // npm's layout for a plugin with peer dependencies: the peers sit beside it (here: real copies).
    project = join(temp, 'project');
    const nodeModules = join(project, 'node_modules');
    installCopy(nodeModules, 'ir');
    installCopy(nodeModules, 'pass-manager');
    writePluginPackage(nodeModules, 'modelpass-plugin-peer', 'peerDependencies');
    writePluginPackage(nodeModules, 'modelpass-plugin-bundled', 'dependencies');
    writeFileSync(join(project, 'documented.mpir'), DOCUMENTED);
  });

  it('a peer dependency gets the very module instances the CLI uses, even with copies beside it', () => {
    const result = spawnCli(['convert', 'documented.mpir', '-o', 'peer.mpir', '--plugin', 'modelpass-plugin-peer', '--pipeline', 'modelpass-plugin-peer-probe', '--statistics'], project);
    expect(result.code, result.stderr).toBe(0);
    expect(statistic(result.stderr, 'same-ir-instance')).toBe(1);
    expect(statistic(result.stderr, 'other-ir-instance')).toBe(0);
  });

  it('a regular dependency keeps the copy its own folder provides', () => {
    const result = spawnCli(['convert', 'documented.mpir', '-o', 'bundled.mpir', '--plugin', 'modelpass-plugin-bundled', '--pipeline', 'modelpass-plugin-bundled-probe', '--statistics'], project);
    expect(result.code, result.stderr).toBe(0);
    expect(statistic(result.stderr, 'other-ir-instance')).toBe(1);
  });
});

describe('plugins named by a crash reproducer', () => {
  it('load from outside the repository when `modelpass replay` runs', () => {
    const folder = join(temp, 'crashing');
    mkdirSync(folder);
    writeFileSync(
      join(folder, 'crash.mjs'),
      `import { definePass, definePlugin } from '@modelpass/pass-manager';
const crash = definePass({ name: 'crash', summary: 'always fails', run() { throw new Error('boom from crash.mjs'); } });
export default definePlugin({ name: 'crash-plugin', version: '1.0.0', passManager: '^0.1.0', passes: [crash] });
`,
    );
    const reproducer = join(temp, 'reproducer');
    const failed = spawnCli(['convert', join(temp, 'documented.mpir'), '-o', join(temp, 'never.mpir'), '--plugin', './crash.mjs', '--pipeline', 'crash', '--reproducer', reproducer], folder);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain('boom from crash.mjs');
    // Replay from an unrelated folder (--allow-plugins: replay imports recorded plugins only when asked).
    const replay = spawnCli(['replay', reproducer, '--allow-plugins'], temp);
    expect(replay.code, replay.stderr).toBe(1);
    expect(replay.stderr).toContain('boom from crash.mjs');
    expect(replay.stderr).not.toMatch(/Cannot find package/);
  });
});
