/**
 * Hostile and damaged TorchScript archives through the built CLI: pickles made by Python's own
 * `pickle` that would run `os.system` / `builtins.exec` (a marker file shows whether anything ran),
 * a zip entry `../../x`, a zip bomb, a truncated archive — each a clear error and exit 1, nothing
 * written, nothing run. And `modelpass compare a.onnx b.pt` on the torch engine.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32, constants as zlibConstants, deflateRawSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeZip } from '@modelpass/torchscript';
import { binPath, spawnCli } from './run-cli.js';

let work: string;
beforeAll(() => {
  expect(existsSync(binPath), `${binPath} is missing: build the CLI first (npx nx run @modelpass/cli:build)`).toBe(true);
  work = mkdtempSync(join(tmpdir(), 'modelpass-hostile-pt-'));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Runs a Python script file with Debian's Python (torch.jit.script needs a file to read source from). */
function python(code: string, args: readonly string[]): void {
  const script = join(work, `script-${Math.random().toString(36).slice(2)}.py`);
  writeFileSync(script, code);
  execFileSync('/usr/bin/python3', [script, ...args], { stdio: ['ignore', 'ignore', 'inherit'] });
}

/** An archive whose data.pkl is `pickle.dumps` of an object that reduces to `call(argument)`. */
function evilArchive(path: string, call: string, argument: string): void {
  python(
    `import sys, pickle, zipfile, os, builtins
class Evil:
    def __reduce__(self):
        return (${call}, (sys.argv[2],))
with zipfile.ZipFile(sys.argv[1], "w") as z:
    z.writestr("evil/data.pkl", pickle.dumps(Evil(), protocol=2))
    z.writestr("evil/constants.pkl", pickle.dumps((), protocol=2))
    z.writestr("evil/version", "3\\n")`,
    [path, argument],
  );
}

function expectRefused(args: string[], pattern: RegExp, output?: string): void {
  const result = spawnCli(args);
  expect(result.stderr).toMatch(pattern);
  expect(result.stderr).not.toMatch(/\n\s+at .*\.js:\d+/); // no stack trace
  expect(result.code).toBe(1);
  if (output) expect(existsSync(output)).toBe(false);
}

describe('hostile .pt files through the CLI', () => {
  it.each([
    ['os.system', 'os.system', (marker: string) => `touch ${marker}`, /global '(posix|os)\.system' is not allowed/],
    ['builtins.exec', 'builtins.exec', (marker: string) => `open(${JSON.stringify(marker)}, 'w').close()`, /global '(__builtin__|builtins)\.exec' is not allowed/],
  ])('a pickle calling %s: exit 1, the global named, the marker never made', (label, call, argument, pattern) => {
    const marker = join(work, `marker-${label}`);
    const archive = join(work, `evil-${label}.pt`);
    evilArchive(archive, call, argument(marker));
    const out = join(work, `evil-${label}.onnx`);
    expectRefused(['convert', archive, '-o', out], pattern, out);
    expectRefused(['inspect', archive], pattern);
    expect(existsSync(marker)).toBe(false);
  });

  it('a zip entry ../../x: exit 1, the name shown', () => {
    const archive = join(work, 'slip.pt');
    python(
      `import sys, zipfile
with zipfile.ZipFile(sys.argv[1], "w") as z:
    z.writestr("evil/data.pkl", b"\\x80\\x02N.")
    z.writestr(zipfile.ZipInfo("../../x"), b"x")`,
      [archive],
    );
    expectRefused(['convert', archive, '-o', join(work, 'slip.onnx')], /zip entry name "\.\.\/\.\.\/x" is refused/, join(work, 'slip.onnx'));
  });

  it('a zip bomb (4 GiB of zeros in ~4 MB): exit 1 at once', () => {
    const mib = Buffer.alloc(1 << 20);
    const block = deflateRawSync(mib, { finishFlush: zlibConstants.Z_SYNC_FLUSH });
    let crc = 0;
    for (let i = 0; i < 4096; i++) crc = crc32(mib, crc);
    const archive = join(work, 'bomb.pt');
    writeZip(archive, [
      { name: 'evil/data.pkl', data: Uint8Array.from([0x80, 0x02, 0x4e, 0x2e]) },
      { name: 'evil/code/__torch__.py', raw: { method: 8, bytes: Buffer.concat([...new Array<Buffer>(4096).fill(block), Buffer.from([0x03, 0x00])]), size: 4096 * 2 ** 20, crc32: crc >>> 0 } },
    ]);
    const started = Date.now();
    expectRefused(['convert', archive, '-o', join(work, 'bomb.onnx')], /zip bomb/, join(work, 'bomb.onnx'));
    expect(Date.now() - started).toBeLessThan(30_000);
  });

  it('a truncated archive: exit 1', () => {
    const archive = join(work, 'whole.pt');
    evilArchive(archive, 'str', 'harmless');
    const truncated = join(work, 'truncated.pt');
    writeFileSync(truncated, readFileSync(archive).subarray(0, 150));
    expectRefused(['convert', truncated, '-o', join(work, 'truncated.onnx')], /truncated|end-of-central-directory/, join(work, 'truncated.onnx'));
  });
});

describe('modelpass compare a.onnx b.pt', () => {
  it('runs the .pt on torch and agrees with its ONNX export; a different .pt disagrees', () => {
    python(
      `import sys, torch
class M(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(1, 4, 3)
    def forward(self, x):
        return torch.relu(self.conv(x)).flatten(1).softmax(1)
out = sys.argv[1]
torch.manual_seed(0)
m = M().eval()
torch.onnx.export(m, torch.randn(1, 1, 6, 6), out + "/m.onnx", input_names=["x"], output_names=["p"], opset_version=13)
torch.jit.save(torch.jit.script(m), out + "/m.pt")
torch.manual_seed(1)
torch.jit.save(torch.jit.script(M().eval()), out + "/other.pt")`,
      [work],
    );
    const same = spawnCli(['compare', join(work, 'm.onnx'), join(work, 'm.pt'), '--json']);
    // One line: the shape the scripted .pt takes from the ONNX export (ebdb8dc), nothing else.
    expect(same.stderr.trim().split('\n')).toEqual([expect.stringContaining("x: [1,1,6,6] (the .pt records no input shapes; taken from")]);
    expect(same.code).toBe(0);
    expect(JSON.parse(same.stdout)).toMatchObject({ verdict: 'agree', engines: ['ort', 'torch'] });
    const other = spawnCli(['compare', join(work, 'm.onnx'), join(work, 'other.pt')]);
    expect(other.code).toBe(1);
  }, 120_000);
});
