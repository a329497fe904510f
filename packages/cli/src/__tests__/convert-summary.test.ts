import { spawnSync } from 'node:child_process';
import { copyFileSync, linkSync, lstatSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { binPath, repoRoot, runCli, spawnCli } from './run-cli.js';

const cnn = join(repoRoot, 'fixtures/models/fashion-cnn/model.onnx');
const cnnInputs = join(repoRoot, 'fixtures/models/fashion-cnn/test_data_set_0');
const temp = realpathSync(mkdtempSync(join(tmpdir(), 'modelpass-convert-summary-')));
afterAll(() => rmSync(temp, { recursive: true, force: true }));
const ESC = '\u001b[';

/** The environment of a terminal user who set nothing about colour (npm test may set NO_COLOR). */
function plainEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, TERM: 'xterm-256color', ...extra };
  for (const key of ['NO_COLOR', 'FORCE_COLOR']) if (!(key in extra)) delete env[key];
  return env;
}

/** Runs the built CLI under a pseudo-terminal (util-linux `script`), so stdout and stderr are TTYs. */
function inTerminal(args: string[], env: NodeJS.ProcessEnv): string {
  const quote = (text: string) => `'${text.replaceAll("'", "'\\''")}'`;
  const command = [process.execPath, binPath, ...args].map(quote).join(' ');
  const result = spawnSync('script', ['-q', '-e', '-c', command, '/dev/null'], { env, encoding: 'utf8', timeout: 120_000, stdio: ['ignore', 'pipe', 'pipe'] });
  expect(result.status, result.stdout + result.stderr).toBe(0);
  return result.stdout.replaceAll('\r\n', '\n');
}

async function inspectJson(path: string): Promise<{ nodes: number; parameters: number; bytes: number; bytesByDtype: Record<string, number>; ops: Record<string, number> }> {
  const result = await runCli(['inspect', path, '--json']);
  expect(result.code, result.stderr).toBe(0);
  return JSON.parse(result.stdout);
}

describe('convert --json', () => {
  it('reports before/after counts that inspect confirms on the input and output files, the ops that changed, and each pass', async () => {
    const output = join(temp, 'fused.onnx');
    const result = await runCli(['convert', cnn, '-o', output, '--pipeline', 'fixed-point(canonicalize,fuse-bn),dce', '--json']);
    expect(result.code, result.stderr).toBe(0);
    const summary = JSON.parse(result.stdout);
    expect(Object.keys(summary)).toEqual(['input', 'output', 'overwroteInput', 'pipeline', 'before', 'after', 'opsChanged', 'passes', 'pipelineMs']);
    for (const [side, file] of [['before', cnn], ['after', output]] as const) {
      const inspected = await inspectJson(file);
      expect(summary[side]).toEqual({ nodes: inspected.nodes, parameters: inspected.parameters, bytes: inspected.bytes, bytesByDtype: inspected.bytesByDtype, ops: expect.objectContaining(inspected.ops) });
    }
    expect(summary.before.nodes - summary.after.nodes).toBe(2);
    expect(summary.opsChanged).toEqual([{ op: 'BatchNormalization', before: 2, after: 0 }]);
    expect(summary.passes.map((pass: { name: string }) => pass.name)).toEqual(['canonicalize', 'fuse-bn', 'dce']);
    const fuse = summary.passes[1];
    expect(fuse.runs).toBe(2); // fixed-point ran the body twice: once changing, once to see nothing changes
    expect(fuse.ms).toBeGreaterThan(0);
    expect(fuse.statistics).toMatchObject({ 'nodes-fused': 2, 'bytes-saved': summary.before.bytes - summary.after.bytes });
    expect(summary.output).toEqual({ path: output, bytes: expect.any(Number) });
    expect(summary.overwroteInput).toBe(false);
    expect(result.stderr).toBe(''); // not a terminal: no table, no progress
  });

  it('--statistics-json writes the same statistics as the summary, ending in a newline; optimize counts its iterations', async () => {
    const statisticsFile = join(temp, 'statistics.json');
    const result = await runCli(['convert', cnn, '-o', join(temp, 'optimized.onnx'), '--pipeline', 'optimize', '--json', '--statistics-json', statisticsFile]);
    expect(result.code, result.stderr).toBe(0);
    const text = readFileSync(statisticsFile, 'utf8');
    expect(text.endsWith('}\n')).toBe(true);
    const summary = JSON.parse(result.stdout);
    expect(JSON.parse(text)).toEqual({ optimize: summary.passes[0].statistics });
    expect(summary.passes[0].statistics.iterations).toBeGreaterThanOrEqual(2);
  });

  it('without a pipeline: before equals after, no passes', async () => {
    const result = await runCli(['convert', cnn, '-o', join(temp, 'copy.mpir'), '--json']);
    expect(result.code, result.stderr).toBe(0);
    const summary = JSON.parse(result.stdout);
    expect(summary.after).toEqual(summary.before);
    expect(summary.passes).toEqual([]);
    expect(summary.pipeline).toBeNull();
  });
});

describe('the summary table', () => {
  const args = ['convert', cnn, '-o', join(temp, 'table.onnx'), '--pipeline', 'fuse-bn,dce'];

  it('appears on a terminal, in colour', () => {
    const screen = inTerminal(args, plainEnv());
    expect(screen).toContain(ESC);
    const text = screen.replace(/\u001b\[\d+m/g, '');
    expect(text).toMatch(/^\s+before\s+after\s+change$/m);
    expect(text).toMatch(/^nodes\s+12\s+10\s+-2 \(-16\.7%\)$/m);
    expect(text).toMatch(/^ {2}float32\s+414\.3 KiB\s+413\.5 KiB\s+-768 B \(-0\.2%\)$/m);
    expect(text).toMatch(/^ {2}BatchNormalization\s+2 → 0$/m);
    expect(text).toMatch(/^ {2}fuse-bn\s+[\d.]+ ms\s+2 rewrites, 2 nodes-removed, 2 nodes-fused, 768 bytes-saved$/m);
    expect(text).toMatch(/^wrote .*table\.onnx \([\d.]+ KiB, input 416\.4 KiB\)$/m);
  });

  it('has no escapes with NO_COLOR on a terminal, and is absent when stderr is a pipe', () => {
    const screen = inTerminal(args, plainEnv({ NO_COLOR: '1' }));
    expect(screen).toMatch(/^nodes\s+12\s+10/m);
    expect(screen).not.toContain('\u001b');
    const piped = spawnSync(process.execPath, [binPath, ...args], { env: plainEnv(), encoding: 'utf8' });
    expect(piped.status, piped.stderr).toBe(0);
    expect(piped.stderr + piped.stdout).toBe('');
  });

  it('--summary prints it into a pipe without colour, and FORCE_COLOR adds colour there', () => {
    const plain = spawnSync(process.execPath, [binPath, ...args, '--summary'], { env: plainEnv(), encoding: 'utf8' });
    expect(plain.status, plain.stderr).toBe(0);
    expect(plain.stderr).toMatch(/^nodes\s+12\s+10/m);
    expect(plain.stderr).not.toContain('\u001b');
    const forced = spawnSync(process.execPath, [binPath, ...args, '--summary'], { env: plainEnv({ FORCE_COLOR: '1' }), encoding: 'utf8' });
    expect(forced.stderr).toContain(`${ESC}32m`);
    const off = spawnSync(process.execPath, [binPath, ...args, '--summary'], { env: plainEnv({ FORCE_COLOR: '1', NO_COLOR: '1' }), encoding: 'utf8' });
    expect(off.stderr).not.toContain('\u001b');
  });
});

describe('convert onto its own input', () => {
  it('warns (by path and through a hard link) and leaves a model ONNX Runtime computes the same outputs from', () => {
    const model = join(temp, 'inplace.onnx');
    copyFileSync(cnn, model);
    const same = spawnCli(['convert', model, '-o', model, '--pipeline', 'fuse-bn']);
    expect(same.code, same.stderr).toBe(0);
    expect(same.stderr).toMatch(/warning: the output .*inplace\.onnx is the input model: it will be replaced/);
    const link = join(temp, 'inplace-link.onnx');
    linkSync(model, link);
    const before = readFileSync(model);
    const linked = spawnCli(['convert', model, '-o', link, '--pipeline', 'dce']);
    expect(linked.stderr).toMatch(/warning: the output .*inplace-link\.onnx is the input model/);
    // The rename replaces the output's own entry: the hard link gets the new file, the input keeps its bytes (QA s18 round 16).
    expect(linked.stderr).toContain("is the input model through a link: the link is replaced by the new file, and '");
    expect(readFileSync(model).equals(before)).toBe(true);
    const symbolic = join(temp, 'inplace-symlink.onnx');
    symlinkSync(model, symbolic);
    const throughSymlink = spawnCli(['convert', model, '-o', symbolic, '--pipeline', 'dce']);
    expect(throughSymlink.stderr).toContain('inplace-symlink.onnx is the input model through a link: the link is replaced by the new file');
    expect(lstatSync(symbolic).isSymbolicLink()).toBe(false);
    expect(readFileSync(model).equals(before)).toBe(true);
    // The input a symbolic link to the output's file: that file is replaced, and the input then reads the new model.
    const viaLink = join(temp, 'inplace-input-link.onnx');
    symlinkSync(model, viaLink);
    const replaced = spawnCli(['convert', viaLink, '-o', model, '--pipeline', 'dce']);
    expect(replaced.stderr).toMatch(/warning: the output .*inplace\.onnx is the input model: it will be replaced/);
    const compare = spawnCli(['compare', cnn, model, '--inputs', cnnInputs]);
    expect(compare.code, compare.stdout + compare.stderr).toBe(0);
    const other = spawnCli(['convert', model, '-o', join(temp, 'elsewhere.onnx')]);
    expect(other.stderr).not.toContain('warning');
  });
});

describe('help that teaches', () => {
  it('modelpass help convert explains the pipeline syntax; help of a typo suggests the command', async () => {
    const help = await runCli(['help', 'convert']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('usage: modelpass convert');
    expect(help.stdout).toMatch(/pipeline syntax/);
    expect(help.stdout).toContain('repeat{times=N}(a,b)');
    expect(help.stdout).toContain('fixed-point(a,b)');
    expect((await runCli(['convert', '--help'])).stdout).toBe(help.stdout);
    const typo = await runCli(['help', 'convrt']);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toContain("did you mean 'convert'?");
    const bare = await runCli([]);
    expect(bare.stdout).toContain("modelpass help <command>");
  });

  it('passes lists the pipeline anchors with their options before the passes', async () => {
    const listing = await runCli(['passes']);
    expect(listing.code, listing.stderr).toBe(0);
    expect(listing.stdout).toContain('repeat{times=N}(…)  —  Run the nested pipeline N times, ending early after a round that changes nothing');
    expect(listing.stdout).toMatch(/^ {4}times \(an integer in \[1, 1000\], required\): /m);
    expect(listing.stdout).toMatch(/^fixed-point\(…\)  —  /m);
    expect(listing.stdout).toMatch(/^ {4}max-iterations \(an integer in \[1, 1000\], default 10\): /m);
    expect(listing.stdout.indexOf('fixed-point(…)')).toBeLessThan(listing.stdout.indexOf('\npasses:\n'));
    expect(listing.stdout).toMatch(/^canonicalize  —  /m);
    const json = JSON.parse((await runCli(['passes', '--json'])).stdout);
    expect(Array.isArray(json)).toBe(true); // --json keeps its shape: the passes only
  });

  it('the pipelines the help shows parse and run', async () => {
    const help = (await runCli(['help', 'convert'])).stdout;
    const nested = 'fixed-point(canonicalize,repeat{times=2}(cse,dce)),dce';
    expect(help).toContain(nested);
    for (const pipeline of [nested, 'simplify,fuse-bn,dce', 'fixed-point(canonicalize,fuse-bn),dce']) {
      const result = await runCli(['convert', cnn, '-o', join(temp, 'help-example.mpir'), '--pipeline', pipeline]);
      expect(result.code, `${pipeline}: ${result.stderr}`).toBe(0);
    }
  });
});
