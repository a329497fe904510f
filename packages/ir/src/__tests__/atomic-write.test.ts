import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { GraphBuilder, ModelpassError, printModelToFile, removeStaleTemporaries, Tensor, writeFileAtomic, writeFileAtomicWith } from '@modelpass/ir';

// Child processes run the built package (the test target builds it first).
const builtIr = fileURLToPath(new URL('../../dist/index.js', import.meta.url));
const root = mkdtempSync(join(tmpdir(), 'atomic-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

interface ChildExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
}

/**
 * Runs `script` (an ES module that gets `ir`, `dest` and `say(line)`) in a child node process;
 * when it says `ready`, `onReady` is called with the child's pid.
 */
function runChild(script: string, dest: string, onReady: (pid: number) => void): Promise<ChildExit> {
  const source = `
    import * as ir from ${JSON.stringify(builtIr)};
    import { writeSync } from 'node:fs';
    const dest = ${JSON.stringify(dest)};
    const say = (line) => writeSync(1, line + '\\n');
    ${script}
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', source], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  let stdout = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    if (stdout.includes('ready\n')) {
      stdout = '';
      onReady(child.pid!);
    }
  });
  return new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal, stderr })));
}

const temporariesBeside = (folder: string) => readdirSync(folder).filter((name) => name.endsWith('.tmp'));

/** A child that claims a temporary file beside `dest`, writes into it and then waits (an async writer mid-write). */
const HOLD_A_TEMPORARY = `
  const temp = ir.claimTemporaryPath(dest);
  (await import('node:fs')).writeFileSync(temp, 'partial model bytes');
  say('ready');
  setInterval(() => {}, 1000);
`;

describe('writeFileAtomic', () => {
  it('writes whole files and leaves no temporary behind', () => {
    const dest = join(root, 'plain', 'model.mpir');
    writeFileAtomic(dest, 'hello');
    writeFileAtomic(dest, new Uint8Array([104, 105]));
    expect(readFileSync(dest, 'utf8')).toBe('hi');
    expect(temporariesBeside(join(root, 'plain'))).toEqual([]);
  });

  it('removes the temporary and keeps the old file when the producer throws', () => {
    const dest = join(root, 'throws', 'model.mpir');
    writeFileAtomic(dest, 'old');
    expect(() =>
      writeFileAtomicWith(dest, (out) => {
        out.write(Buffer.from('new, half'));
        throw new ModelpassError({ reason: 'producer failed' });
      }),
    ).toThrow('producer failed');
    expect(readFileSync(dest, 'utf8')).toBe('old');
    expect(temporariesBeside(join(root, 'throws'))).toEqual([]);
  });

  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    it(`removes in-flight temporaries on ${signal} and still dies of the signal`, async () => {
      const folder = join(root, `signal-${signal}`);
      mkdirSync(folder);
      const dest = join(folder, 'model.onnx');
      let seen: string[] = [];
      const exit = await runChild(HOLD_A_TEMPORARY, dest, (pid) => {
        seen = temporariesBeside(folder);
        process.kill(pid, signal);
      });
      expect(seen).toHaveLength(1);
      expect(seen[0]).toMatch(/^\.model\.onnx\.\d+\.[0-9a-z]+-[0-9a-z]+\.tmp$/);
      expect(exit).toEqual({ code: null, signal, stderr: '' });
      expect(readdirSync(folder)).toEqual([]);
    });
  }

  it('a signal during a synchronous write lets it finish, then removes nothing half-written and dies of the signal', async () => {
    const folder = join(root, 'sync-signal');
    mkdirSync(folder);
    const dest = join(folder, 'big.bin');
    const exit = await runChild(
      `
      const chunk = new Uint8Array(1 << 20).fill(7);
      ir.writeFileAtomicWith(dest, (out) => {
        say('ready');
        const until = Date.now() + 600;
        while (Date.now() < until) out.write(chunk);
      });
      say('finished');
      setInterval(() => {}, 1000);
      `,
      dest,
      (pid) => process.kill(pid, 'SIGINT'),
    );
    expect(exit.signal).toBe('SIGINT');
    expect(temporariesBeside(folder)).toEqual([]);
    // Whole or absent, never half: here the write had finished before the handler ran.
    expect(statSync(dest).size % (1 << 20)).toBe(0);
    expect(statSync(dest).size).toBeGreaterThan(0);
  });

  it('after kill -9, the next write to the same destination removes the dead process temporary (and only that)', async () => {
    const folder = join(root, 'sigkill');
    mkdirSync(folder);
    const dest = join(folder, 'model.onnx');
    const exit = await runChild(HOLD_A_TEMPORARY, dest, (pid) => process.kill(pid, 'SIGKILL'));
    expect(exit.signal).toBe('SIGKILL');
    const [left] = temporariesBeside(folder);
    expect(left).toBeDefined();
    // A temporary of a live process (this one) and one for another destination are not touched.
    const live = `.model.onnx.${process.pid}.0-0.tmp`;
    const other = `.other.onnx.999999999.0-0.tmp`;
    writeFileSync(join(folder, live), '');
    writeFileSync(join(folder, other), '');
    writeFileAtomic(dest, 'complete');
    expect(readdirSync(folder).sort()).toEqual([live, other, 'model.onnx'].sort());
    expect(removeStaleTemporaries(join(folder, 'other.onnx'))).toEqual([join(folder, other)]);
    rmSync(join(folder, live));
  });

  it('repeated kills never pile up temporaries: each new write removes the dead ones first', async () => {
    const folder = join(root, 'many-kills');
    mkdirSync(folder);
    const dest = join(folder, 'model.onnx');
    const signals = ['SIGKILL', 'SIGINT', 'SIGKILL', 'SIGTERM', 'SIGKILL', 'SIGHUP'] as const;
    for (const signal of signals) {
      await runChild(HOLD_A_TEMPORARY, dest, (pid) => process.kill(pid, signal));
      // Only a SIGKILLed writer leaves one, and the next writer removes it.
      expect(temporariesBeside(folder)).toHaveLength(signal === 'SIGKILL' ? 1 : 0);
    }
    await runChild(HOLD_A_TEMPORARY, dest, (pid) => process.kill(pid, 'SIGKILL'));
    writeFileAtomic(dest, 'x');
    expect(readdirSync(folder)).toEqual(['model.onnx']);
  });
});

/**
 * A 1 MiB tmpfs, when this machine lets us mount one (root in a container that allows it). The two
 * full-disk tests below skip only where `mount -t tmpfs` is refused: no referee is involved, and
 * the CLI's ENOSPC test (packages/cli hostile-input) covers the same path through `unshare -rm`.
 */
function smallFileSystem(): string | undefined {
  const mountPoint = join(root, 'full-disk');
  mkdirSync(mountPoint, { recursive: true });
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', mountPoint], { stdio: 'ignore' });
    return mountPoint;
  } catch {
    return undefined;
  }
}

describe('a full disk', () => {
  const mountPoint = smallFileSystem();
  afterAll(() => {
    if (mountPoint) execFileSync('umount', [mountPoint]);
  });

  it.skipIf(mountPoint === undefined)('is a ModelpassError naming the file, and leaves the old file and no temporary', () => {
    const dest = join(mountPoint!, 'model.mpir');
    writeFileAtomic(dest, 'old');
    let error: unknown;
    try {
      writeFileAtomic(dest, new Uint8Array(4 << 20));
    } catch (thrown) {
      error = thrown;
    }
    expect(ModelpassError.is(error)).toBe(true);
    expect((error as ModelpassError).message).toBe(`${dest}: cannot write '${dest}': no space is left on the device (ENOSPC)\n  hint: free some space or write to another disk; nothing was left behind`);
    expect(readFileSync(dest, 'utf8')).toBe('old');
    expect(readdirSync(mountPoint!)).toEqual(['model.mpir']);
    expect(existsSync(join(mountPoint!, '.model.mpir.tmp'))).toBe(false);
  });

  it.skipIf(mountPoint === undefined)('while streaming a .mpir is the same clear error', () => {
    const dest = join(mountPoint!, 'big.mpir');
    const b = new GraphBuilder();
    b.output(b.constant(Tensor.fromBytes('uint8', [1 << 20], new Uint8Array(1 << 20).fill(9)), 'w'));
    expect(() => printModelToFile(b.model(), dest)).toThrow(`cannot write '${dest}': no space is left on the device (ENOSPC)`);
    expect(readdirSync(mountPoint!)).toEqual(['model.mpir']);
  });
});
