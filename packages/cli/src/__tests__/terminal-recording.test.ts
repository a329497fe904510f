/**
 * A terminal recording: the built `modelpass convert` on a 1 GiB model runs under a pseudo-terminal
 * (util-linux `script`, which records every byte the program writes to the terminal), and the
 * recording shows the progress bars (reading, passes, writing), the colours and the summary table.
 * The same command with stdout and stderr piped writes no escape sequence at all.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, realpathSync, rmSync, statfsSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { attrs, ComputedStorage, GraphBuilder, Tensor, tensorType } from '@modelpass/ir';
import { writeOnnx } from '@modelpass/onnx';
import { binPath } from './run-cli.js';

const GiB = 2 ** 30;
/** The model, its converted copy and headroom. */
const REQUIRED_FREE_BYTES = 4e9;
const ROWS = GiB / (256 * 4);
const ESC = '\u001b';

const temp = realpathSync(mkdtempSync(join(tmpdir(), 'modelpass-terminal-recording-')));
const bigModel = join(temp, 'big.onnx');
afterAll(() => rmSync(temp, { recursive: true, force: true }));

/** 1 GiB of float32 weights filled chunk by chunk with a non-zero pattern (no sparse holes). */
class PatternStorage extends ComputedStorage {
  constructor(byteLength: number) {
    super(byteLength, () => this.fill(Buffer.allocUnsafe(byteLength)), 'pattern');
  }
  readChunk(target: Uint8Array): void {
    this.fill(Buffer.from(target.buffer, target.byteOffset, target.byteLength));
  }
  private fill(target: Buffer): Buffer {
    return target.fill(Buffer.from([0x00, 0x00, 0x80, 0x3f])); // 1.0f
  }
}

beforeAll(() => {
  const free = statfsSync(temp);
  const freeBytes = free.bavail * free.bsize;
  if (freeBytes < REQUIRED_FREE_BYTES) {
    throw new Error(`the terminal recording test needs ${(REQUIRED_FREE_BYTES / 1e9).toFixed(0)} GB free in ${temp}, only ${(freeBytes / 1e9).toFixed(1)} GB are`);
  }
  const b = new GraphBuilder();
  const weight = b.constant(Tensor.fromStorage('float32', [ROWS, 256], new PatternStorage(GiB)), 'weight');
  const index = b.input('index', tensorType('int64', [1]));
  const row = b.op1('onnx.Gather', [weight, index], { axis: attrs.int(0) }, { types: [tensorType('float32', [1, 256])] });
  const unused = b.op1('onnx.Relu', [row], {}, { types: [tensorType('float32', [1, 256])] });
  void unused; // dead code for dce to remove
  b.output(b.op1('onnx.Identity', [row], {}, { outputs: ['out'], types: [tensorType('float32', [1, 256])] }));
  writeOnnx(b.model({ onnx: 17 }), bigModel);
  expect(statSync(bigModel).size).toBeGreaterThan(GiB);
}, 60_000);

function terminalEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, TERM: 'xterm-256color', COLUMNS: '100' };
  delete env['NO_COLOR'];
  delete env['FORCE_COLOR'];
  delete env['CI'];
  return env;
}

const convertArgs = (output: string) => [binPath, 'convert', bigModel, '-o', output, '--pipeline', 'canonicalize,dce'];

describe('terminal recording of convert on a 1 GiB model', () => {
  it('shows progress bars, colours and the summary table on a terminal', () => {
    const output = join(temp, 'on-terminal.onnx');
    const quote = (text: string) => `'${text.replaceAll("'", "'\\''")}'`;
    const command = [process.execPath, ...convertArgs(output)].map(quote).join(' ');
    const started = performance.now();
    const run = spawnSync('script', ['-q', '-e', '-f', '-c', command, '/dev/null'], { env: terminalEnv(), encoding: 'utf8', timeout: 60_000, stdio: ['ignore', 'pipe', 'pipe'] });
    const seconds = (performance.now() - started) / 1000;
    const recording = run.stdout;
    expect(run.status, recording + run.stderr).toBe(0);
    // Progress bars: drawn in place with carriage returns and erase-to-end-of-line, in colour.
    expect(recording).toMatch(/\rmodelpass: reading \S*big\.onnx \[.*\].*1\.0 GiB/);
    expect(recording).toMatch(/\rmodelpass: running passes \[.*\] +\d+% \d+\/2 /);
    expect(recording).toMatch(/\rmodelpass: writing \S*\.onnx \[.*\] 100% 1\.0 GiB\/1\.0 GiB in \d+s/);
    expect(recording).toContain(`${ESC}[K`);
    expect(recording).toContain(`${ESC}[36m█`);
    // The summary table, coloured.
    expect(recording).toMatch(/nodes/);
    expect(recording).toMatch(/parameters/);
    expect(recording).toContain(`${ESC}[1m`);
    expect(recording).toContain('on-terminal.onnx');
    expect(statSync(output).size).toBeGreaterThan(GiB);
    console.log(`terminal recording: convert of a ${(statSync(bigModel).size / GiB).toFixed(2)} GiB model in ${seconds.toFixed(1)} s, ${recording.length} bytes recorded`);
  }, 70_000);

  it('writes no escape sequence when piped', () => {
    const output = join(temp, 'piped.onnx');
    const run = spawnSync(process.execPath, [...convertArgs(output), '--summary'], { env: terminalEnv(), encoding: 'utf8', timeout: 60_000 });
    expect(run.status, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/parameters/); // --summary prints the table even when piped
    expect(run.stdout + run.stderr).not.toContain(ESC);
    expect(run.stderr).not.toContain('\r');
    expect(run.stderr).not.toContain('█');
    expect(statSync(output).size).toBeGreaterThan(GiB);
  }, 70_000);
});
