import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { ModelpassError } from '@modelpass/ir';
import { renderTemplates, scaffoldPassPackage } from '@modelpass/create-pass';

const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));
const bin = fileURLToPath(new URL('../../bin/create-pass.js', import.meta.url));
const cli = join(repoRoot, 'packages/cli/dist/bin.js');
const temp = realpathSync(mkdtempSync(join(tmpdir(), 'modelpass-create-pass-')));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

/**
 * The environment of a user's shell: when this test runs under `npm test`, npm has set
 * npm_config_local_prefix, npm_package_* and friends, which would point npm at this repository.
 */
const KEPT_NPM_SETTINGS = new Set(['npm_config_cache', 'npm_config_registry', 'npm_config_userconfig']);
const userEnv = Object.fromEntries(
  Object.entries(process.env).filter(([key]) => !(key.toLowerCase().startsWith('npm_') && !KEPT_NPM_SETTINGS.has(key.toLowerCase())) && key !== 'INIT_CWD' && key !== 'UPDATE_GOLDENS'),
);

function run(command: string, args: string[], cwd: string): SpawnSyncReturns<string> {
  return spawnSync(command, args, { cwd, encoding: 'utf8', timeout: 240_000, env: userEnv });
}

function errorOf(action: () => unknown): ModelpassError {
  try {
    action();
  } catch (error) {
    if (ModelpassError.is(error)) return error;
    throw error;
  }
  throw new Error('expected a ModelpassError');
}

describe('scaffoldPassPackage', () => {
  it('wires published versions by default: peer and dev dependencies on ^version, no vendor folder', () => {
    const result = scaffoldPassPackage({ name: 'strip-identity', cwd: temp });
    const manifest = JSON.parse(readFileSync(join(result.directory, 'package.json'), 'utf8'));
    expect(manifest.name).toBe('modelpass-plugin-strip-identity');
    expect(manifest.peerDependencies).toEqual({ '@modelpass/ir': '^0.1.0', '@modelpass/pass-manager': '^0.1.0' });
    expect(manifest.devDependencies['@modelpass/testing']).toBe('^0.1.0');
    expect(manifest.overrides).toBeUndefined();
    expect(result.files).not.toContain('vendor');
    expect(result.files).toEqual(expect.arrayContaining(['src/index.ts', 'src/__tests__/golden.test.ts', 'fixtures/strip-identity/removes-identities/output.mpir', '.gitignore']));
    const index = readFileSync(join(result.directory, 'src/index.ts'), 'utf8');
    expect(index).toContain("name: 'strip-identity'");
    expect(index).toContain('export const stripIdentityPass = definePass(');
    for (const text of renderTemplates({ name: 'x', camelName: 'x', packageName: 'x', passManagerRange: '^1.0.0', pluginSpecifier: 'x', dependencyNote: '' }).values()) {
      expect(text).not.toMatch(/\{\{\w+\}\}/);
    }
  });

  it('refuses a bad pass name, a bad package name, an occupied folder and an unusable --modelpass, leaving nothing behind', () => {
    expect(errorOf(() => scaffoldPassPackage({ name: 'Bad_Name', cwd: temp })).message).toMatch(/'Bad_Name' is not a pass name/);
    expect(errorOf(() => scaffoldPassPackage({ name: 'ok', packageName: 'Not A Name', cwd: temp })).message).toMatch(/not an npm package name/);
    mkdirSync(join(temp, 'occupied'));
    writeFileSync(join(temp, 'occupied', 'keep.txt'), 'mine');
    expect(errorOf(() => scaffoldPassPackage({ name: 'occupied', cwd: temp })).message).toMatch(/already exists and is not an empty folder/);
    writeFileSync(join(temp, 'a-file'), 'mine');
    expect(errorOf(() => scaffoldPassPackage({ name: 'ok', directory: 'a-file', cwd: temp })).message).toMatch(/'.*a-file' already exists and is a file, not a folder/);
    // a link, dangling or to an empty folder, was renamed over: raw ENOTDIR
    symlinkSync(join(temp, 'nowhere'), join(temp, 'dangling'));
    mkdirSync(join(temp, 'empty'));
    symlinkSync(join(temp, 'empty'), join(temp, 'to-empty'));
    expect(errorOf(() => scaffoldPassPackage({ name: 'ok', directory: 'dangling', cwd: temp })).message).toMatch(/'.*dangling' is a symbolic link \(to '.*nowhere'\), not a folder/);
    expect(errorOf(() => scaffoldPassPackage({ name: 'ok', directory: 'to-empty', cwd: temp })).message).toMatch(/'.*to-empty' is a symbolic link/);
    expect(readdirSync(join(temp, 'empty'))).toEqual([]);
    mkdirSync(join(temp, 'no-tarballs'));
    const before = readdirSync(temp).sort();
    expect(errorOf(() => scaffoldPassPackage({ name: 'wired', modelpass: join(temp, 'no-tarballs'), cwd: temp })).message).toMatch(/has no tarball for @modelpass\/ir/);
    expect(readdirSync(temp).sort()).toEqual(before);
    expect(readFileSync(join(temp, 'occupied', 'keep.txt'), 'utf8')).toBe('mine');
  });
});

describe('create-pass outside the repository, wired to this checkout', () => {
  const project = join(temp, 'outside');
  const pkg = join(project, 'fold-scale');

  it('scaffolds, installs (local tarballs + the npm cache), builds, and its golden test passes', () => {
    mkdirSync(project);
    const created = run(process.execPath, [bin, 'fold-scale', '--modelpass', repoRoot], project);
    expect(created.status, created.stderr).toBe(0);
    expect(created.stdout).toContain('vendor/modelpass-pass-manager-0.1.0.tgz');
    const install = run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund'], pkg);
    expect(install.status, install.stderr).toBe(0);
    const build = run('npm', ['run', 'build'], pkg);
    expect(build.status, build.stdout + build.stderr).toBe(0);
    expect(existsSync(join(pkg, 'dist/index.js'))).toBe(true);
    const test = run('npm', ['test'], pkg);
    expect(test.status, test.stdout + test.stderr).toBe(0);
    expect(test.stdout).toMatch(/3 passed/);
  });

  it('also takes a folder of npm pack tarballs (here: the ones just vendored) for --modelpass', () => {
    const tarballs = join(pkg, 'vendor');
    const result = scaffoldPassPackage({ name: 'from-tarballs', modelpass: tarballs, cwd: project });
    expect(result.files.filter((file) => file.startsWith('vendor/')).sort()).toEqual(readdirSync(tarballs).sort().map((file) => `vendor/${file}`));
    const manifest = JSON.parse(readFileSync(join(result.directory, 'package.json'), 'utf8'));
    expect(manifest.devDependencies['@modelpass/pass-manager']).toBe('file:vendor/modelpass-pass-manager-0.1.0.tgz');
    expect(manifest.overrides['@modelpass/ops']).toBe('file:vendor/modelpass-ops-0.1.0.tgz');
  });

  it('its golden test fails with a diff when a golden is wrong', () => {
    const golden = join(pkg, 'fixtures/fold-scale/removes-identities/output.mpir');
    const right = readFileSync(golden, 'utf8');
    writeFileSync(golden, right.replace('onnx.Relu(%x)', 'onnx.Relu(%z)'));
    try {
      const test = run('npm', ['test'], pkg);
      expect(test.status).not.toBe(0);
      expect(test.stdout + test.stderr).toContain('+  %y: float32[2,3] = onnx.Relu(%x) name="relu"');
    } finally {
      writeFileSync(golden, right);
    }
  });

  it('the modelpass CLI loads the built package and runs its pass', () => {
    const input = join(pkg, 'fixtures/fold-scale/removes-identities/input.mpir');
    const result = run(process.execPath, [cli, 'convert', input, '-o', join(project, 'out.mpir'), '--plugin', pkg, '--pipeline', 'fold-scale', '--statistics'], project);
    expect(result.status, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/\(S\) 2 identities-removed/);
    expect(readFileSync(join(project, 'out.mpir'), 'utf8')).toBe(readFileSync(join(pkg, 'fixtures/fold-scale/removes-identities/output.mpir'), 'utf8'));
  });
});
