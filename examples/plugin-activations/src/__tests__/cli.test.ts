/**
 * The plugin as a third party would use it: through the BUILT `modelpass` command, loaded once by
 * path and once by package name (npm workspaces link it into node_modules).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseModel, printModel } from '@modelpass/ir';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURES, PACKAGE_ROOT, REPO_ROOT } from './fixtures.js';

const CLI = join(REPO_ROOT, 'packages/cli/dist/bin.js');
const CASE = join(FIXTURES, 'cli-pipeline');
const PIPELINE = 'canonicalize,fuse-hardswish,dce';
const work = mkdtempSync(join(tmpdir(), 'modelpass-plugin-cli-'));

beforeAll(() => {
  // nx builds both before `test` (dependsOn build, ^build); a bare `vitest run` builds what is missing here.
  // Only what is missing: under nx, `tsc -b` here would rebuild the other packages' dist folders (their
  // tsbuildinfo is absent when nx restored them from its cache) while nx runs another task that reads them.
  const tsc = join(REPO_ROOT, 'node_modules/typescript/bin/tsc');
  if (!existsSync(CLI)) execFileSync(process.execPath, [tsc, '-b', join(REPO_ROOT, 'packages/cli')], { stdio: 'inherit' });
  if (!existsSync(join(PACKAGE_ROOT, 'dist/index.js'))) execFileSync(process.execPath, [tsc, '-b', PACKAGE_ROOT], { stdio: 'inherit' });
}, 300_000);

afterAll(() => rmSync(work, { recursive: true, force: true }));

function convert(plugin: string, cwd: string, tag: string) {
  const output = join(work, `${tag}.mpir`);
  const dumps = join(work, `${tag}-dumps`);
  const args = [CLI, 'convert', join(CASE, 'input.mpir'), '-o', output, '--pipeline', PIPELINE, '--plugin', plugin, '--statistics', '--dump-ir', dumps];
  const run = spawnSync(process.execPath, args, { cwd, encoding: 'utf8' });
  return { ...run, output, dumps };
}

const normalized = (text: string): string => printModel(parseModel(text));

describe.each([
  ['a path', './examples/plugin-activations', REPO_ROOT, 'by-path'],
  ['its package name', '@modelpass-examples/plugin-activations', PACKAGE_ROOT, 'by-name'],
])('modelpass convert --plugin <%s>', (_label, plugin, cwd, tag) => {
  let run: ReturnType<typeof convert>;
  beforeAll(() => {
    run = convert(plugin, cwd, tag);
  });

  it('exits 0 and writes the golden output', () => {
    expect(run.stderr).not.toMatch(/error/i);
    expect(run.status).toBe(0);
    expect(normalized(readFileSync(run.output, 'utf8'))).toBe(normalized(readFileSync(join(CASE, 'output.mpir'), 'utf8')));
  });

  it("runs the plugin's pass between the built-in passes, and its patterns inside canonicalize", () => {
    expect(readdirSync(run.dumps).sort()).toEqual(['000-input.mpir', '001-canonicalize.mpir', '002-fuse-hardswish.mpir', '003-dce.mpir']);
    const after = (file: string) => parseModel(readFileSync(join(run.dumps, file), 'utf8'));
    const ops = (file: string) => [...after(file).graph.nodes()].map((node) => `${node.name}:${node.opType}`);
    // canonicalize applied the plugin's Relu patterns (no built-in pattern touches these), nothing else ran yet
    expect(ops('001-canonicalize.mpir')).toEqual(['relu6:Clip', 'hardsigmoid:HardSigmoid', 'mul:Mul', 'sigmoid:Sigmoid', 'dead:Neg']);
    // fuse-hardswish fused the Mul; the dead Neg is still there for dce
    expect(ops('002-fuse-hardswish.mpir')).toEqual(['relu6:Clip', 'mul_hardswish:HardSwish', 'sigmoid:Sigmoid', 'dead:Neg']);
    expect(ops('003-dce.mpir')).toEqual(['relu6:Clip', 'mul_hardswish:HardSwish', 'sigmoid:Sigmoid']);
  });

  it('prints the statistics of every pass, the plugin pass included, on stderr', () => {
    const section = (pass: string): string => {
      const match = new RegExp(`^${pass}\\n((?:  \\(S\\).*\\n?)*)`, 'm').exec(run.stderr);
      expect(match, `no statistics section for ${pass} in:\n${run.stderr}`).not.toBeNull();
      return match![1]!;
    };
    expect(section('canonicalize')).toMatch(/\(S\)\s+2 rewrites/);
    expect(section('fuse-hardswish')).toMatch(/\(S\)\s+1 fused/);
    expect(section('fuse-hardswish')).toMatch(/\(S\)\s+1 hardsigmoids-removed/);
    expect(section('dce')).toMatch(/\(S\)\s+1 nodes-removed/);
    expect(run.stdout).not.toContain('Pass statistics report');
  });
});

describe('modelpass passes --plugin', () => {
  it("lists the plugin's pass with its options and owner", () => {
    const run = spawnSync(process.execPath, [CLI, 'passes', '--plugin', '@modelpass-examples/plugin-activations', '--json'], { cwd: PACKAGE_ROOT, encoding: 'utf8' });
    expect(run.status, run.stderr).toBe(0);
    const passes = JSON.parse(run.stdout) as { name: string; options: { name: string }[]; plugin?: unknown }[];
    const pass = passes.find((p) => p.name === 'fuse-hardswish');
    expect(pass?.options.map((o) => o.name)).toEqual(['shared', 'skip-nodes']);
  });
});
