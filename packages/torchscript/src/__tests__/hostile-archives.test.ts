import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelpassError } from '@modelpass/ir';
import { readPickle, readTorchArchive, readTorchScript, readStateDict, TORCHSCRIPT_ERROR_SOURCE } from '@modelpass/torchscript';
import { reducePickle, stackGlobalPickle, writeArchiveWith, zeroBomb } from './hostile/hostile-files.js';
import { PYTHON } from './torch/torch-fixtures.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'modelpass-hostile-pt-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function refusal(run: () => unknown): ModelpassError {
  try {
    run();
  } catch (error) {
    expect(ModelpassError.is(error), String(error)).toBe(true);
    expect((error as ModelpassError).diagnostics[0]!.source).toBe(TORCHSCRIPT_ERROR_SOURCE);
    return error as ModelpassError;
  }
  throw new Error('expected a ModelpassError, but it was accepted');
}

describe('pickles that would run code', () => {
  const calls: Array<[string, string, (marker: string) => string]> = [
    ['posix', 'system', (m) => `touch ${m}`],
    ['os', 'system', (m) => `touch ${m}`],
    ['builtins', 'exec', (m) => `open(${JSON.stringify(m)}, 'w').close()`],
    ['builtins', 'eval', (m) => `open(${JSON.stringify(m)}, 'w').close()`],
    ['subprocess', 'getoutput', (m) => `touch ${m}`],
  ];

  it.each(calls)('GLOBAL %s.%s is refused by name and nothing runs (Python itself would run it)', (module, name, command) => {
    const marker = join(dir, `marker-${module}-${name}`);
    const pickle = reducePickle(module, name, command(marker));
    // the referee: Python's own pickle runs it (proof the file is hostile), in a copy of the marker path
    const pythonMarker = `${marker}.python`;
    execFileSync(PYTHON, ['-c', 'import pickle,sys; pickle.loads(open(sys.argv[1],"rb").read())', writeTemp(reducePickle(module, name, command(pythonMarker)))], { stdio: 'ignore' });
    expect(existsSync(pythonMarker)).toBe(true);

    const error = refusal(() => readPickle(pickle, { source: 'evil.pkl' }));
    expect(error.message).toContain(`global '${module}.${name}' is not allowed`);
    const archive = join(dir, `evil-${module}-${name}.pt`);
    writeArchiveWith(archive, pickle);
    expect(refusal(() => readTorchArchive(archive)).message).toMatch(new RegExp(`${archive}:evil/data.pkl.*global '${module}\\.${name}'`));
    expect(refusal(() => readStateDict(archive)).message).toContain(`'${module}.${name}'`);
    expect(existsSync(marker)).toBe(false);
  });

  it('refuses STACK_GLOBAL the same way', () => {
    const marker = join(dir, 'marker-stack');
    expect(refusal(() => readPickle(stackGlobalPickle('os', 'system', `touch ${marker}`), { source: 'evil.pkl' })).message).toContain("global 'os.system'");
    expect(existsSync(marker)).toBe(false);
  });

  it('refuses a NEWOBJ/REDUCE on a non-global, INST, and an unknown torch function', () => {
    expect(refusal(() => readPickle(reducePickle('torch', 'load', 'x.pt'), { source: 'a.pkl' })).message).toContain("global 'torch.load'");
    expect(refusal(() => readPickle(Buffer.from('\x80\x02X\x01\x00\x00\x00a)R.', 'latin1'), { source: 'a.pkl' })).message).toContain('REDUCE of a string');
    expect(refusal(() => readPickle(Buffer.from('\x80\x02(iposix\nsystem\n.', 'latin1'), { source: 'a.pkl' })).message).toContain('INST');
  });

  it('refuses a billion-laughs pickle (a dict shared 2^60 ways) without walking it', () => {
    const key = (k: string): number[] => [0x8c, 1, k.charCodeAt(0)];
    const bytes: number[] = [0x80, 0x02, 0x7d, 0x71, 0]; // {} memo 0
    for (let i = 0; i < 60; i++) bytes.push(0x7d, 0x28, ...key('a'), 0x68, i, ...key('b'), 0x68, i, 0x75, 0x71, i + 1);
    bytes.push(0x2e);
    const path = join(dir, 'laughs.pt');
    writeArchiveWith(path, Uint8Array.from(bytes));
    const started = performance.now();
    expect(refusal(() => readStateDict(path)).message).toMatch(/more than 1000000 values once shared references are followed/);
    expect(performance.now() - started).toBeLessThan(10_000);
  });

  it('refuses a truncated pickle and one without STOP', () => {
    const good = reducePickle('collections', 'OrderedDict', 'x');
    expect(refusal(() => readPickle(good.subarray(0, 10), { source: 'a.pkl' })).message).toMatch(/truncated/);
    expect(refusal(() => readPickle(Uint8Array.from([0x80, 0x02, 0x4e]), { source: 'a.pkl' })).message).toMatch(/without a STOP/);
  });
});

function writeTemp(bytes: Uint8Array): string {
  const path = join(dir, `tmp-${Math.random().toString(36).slice(2)}.pkl`);
  writeFileSync(path, bytes);
  return path;
}

/** A zip whose one entry has a name our writer would refuse: written with Python's zipfile. */
function zipWithName(name: string): string {
  const path = join(dir, `slip-${Buffer.from(name).toString('hex')}.pt`);
  execFileSync(PYTHON, ['-c', 'import zipfile,sys\nwith zipfile.ZipFile(sys.argv[1],"w") as z:\n  z.writestr("a/data.pkl", b"\\x80\\x02N.")\n  z.writestr(zipfile.ZipInfo(sys.argv[2]), b"x")', path, name]);
  return path;
}

describe('zip containers that escape, lie or explode', () => {
  it.each(['../../x', 'a/../../x', '/etc/passwd', 'a\\..\\..\\x', 'C:/x', 'a//x'])('refuses entry name %j', (name) => {
    const error = refusal(() => readTorchArchive(zipWithName(name)));
    expect(error.message).toContain(JSON.stringify(name));
    expect(error.message).toContain('refused');
  });

  it('refuses a zip bomb by its ratio before inflating (4 GiB of zeros in ~4 MB)', () => {
    const bomb = zeroBomb(4096);
    expect(bomb.bytes.byteLength).toBeLessThan(5 << 20);
    const path = join(dir, 'bomb.pt');
    writeArchiveWith(path, Uint8Array.from([0x80, 0x02, 0x4e, 0x2e]), [{ name: 'evil/code/__torch__.py', raw: { method: 8, ...bomb } }]);
    const started = performance.now();
    const error = refusal(() => readTorchArchive(path));
    expect(error.message).toMatch(/evil\/code\/__torch__\.py.*zip bomb/);
    expect(performance.now() - started).toBeLessThan(5000);
  });

  it('stops inflating a bomb that lies about its size, at the declared size', () => {
    const bomb = zeroBomb(1024);
    const path = join(dir, 'liar.pt');
    writeArchiveWith(path, Uint8Array.from([0x80, 0x02, 0x4e, 0x2e]), [{ name: 'evil/code/__torch__.py', raw: { method: 8, bytes: bomb.bytes, size: 1000, crc32: 0 } }]);
    const before = process.memoryUsage().rss;
    const error = refusal(() => readTorchArchive(path));
    expect(error.message).toContain('inflates to more than its declared 1000 bytes');
    expect(process.memoryUsage().rss - before).toBeLessThan(256 << 20);
  });

  it('refuses limits it is given: entry count and entry size', () => {
    const path = join(dir, 'small.pt');
    writeArchiveWith(path, Uint8Array.from([0x80, 0x02, 0x4e, 0x2e]));
    expect(refusal(() => readTorchArchive(path, { maxEntries: 2 })).message).toContain('3 entries, more than the limit');
    expect(refusal(() => readTorchArchive(path, { maxEntryBytes: 3 })).message).toMatch(/declares 4 bytes, more than the limit/);
  });

  it('refuses truncated archives at every cut, never reading past the end', () => {
    const path = join(dir, 'whole.pt');
    writeArchiveWith(path, Uint8Array.from([0x80, 0x02, 0x7d, 0x2e])); // an empty dict
    const whole = readFileSync(path);
    expect(readTorchArchive(path).data).toEqual({ kind: 'dict', entries: [] });
    for (const cut of [0, 1, 21, 100, whole.length - 23, whole.length - 1]) {
      const truncated = join(dir, `cut-${cut}.pt`);
      writeFileSync(truncated, whole.subarray(0, cut));
      expect(refusal(() => readTorchArchive(truncated)).message).toMatch(/truncated|end-of-central-directory|past the end|damaged/);
    }
  });

  it('refuses a view that repeats 16 bytes of storage into terabytes (stride 0) before allocating; reads a small one', () => {
    // torch.save keeps an expand()ed view as its storage plus strides: torch itself writes these files.
    const huge = join(dir, 'expanded-huge.pt');
    const small = join(dir, 'expanded-small.pt');
    execFileSync(PYTHON, ['-c', [
      'import torch, sys',
      'base = torch.tensor([1.0, 2.0, 3.0, 4.0])',
      'torch.save({"w": base.expand(2**20, 2**20, 4)}, sys.argv[1])',
      'torch.save({"w": base.expand(2**16, 4)}, sys.argv[2])',
    ].join('\n'), huge, small], { stdio: 'ignore' });
    expect(readFileSync(huge).byteLength).toBeLessThan(4096);
    const before = process.memoryUsage().rss;
    const error = refusal(() => readStateDict(huge));
    expect(error.message).toMatch(/tensor float32\[1048576,1048576,4\] over storage '0' \(16 bytes\) repeats its storage \(strides 0,0,1\) into 17592186044416 bytes/);
    expect(process.memoryUsage().rss - before).toBeLessThan(256 << 20);
    // 1 MiB of repeats is a real tensor: read, every row the storage
    const values = readStateDict(small).get('w')!.toNumbers();
    expect(values.length).toBe(2 ** 18);
    expect(values.slice(0, 8)).toEqual([1, 2, 3, 4, 1, 2, 3, 4]);
    expect(values.slice(-4)).toEqual([1, 2, 3, 4]);
    // …unless the caller's limit on one record is smaller
    expect(refusal(() => readStateDict(small, { maxEntryBytes: 2 ** 19 })).message).toContain('1048576 bytes, more than one tensor may take');
  });

  it('refuses a symbolic-link entry by name, also one standing in for a tensor record (it held a path, read as data)', () => {
    const made = join(dir, 'made.pt');
    execFileSync(PYTHON, ['-c', 'import torch, sys; torch.jit.save(torch.jit.script(torch.nn.Linear(2, 2)), sys.argv[1])', made], { stdio: 'ignore' });
    expect(readStateDict(made).size).toBe(2);
    const linked = (record: string, target: string, file: string): string => {
      const out = join(dir, file);
      execFileSync(PYTHON, ['-c', [
        'import zipfile, stat, sys',
        'src, out, record, target = sys.argv[1:5]',
        'zin = zipfile.ZipFile(src)',
        'prefix = zin.namelist()[0].split("/")[0]',
        'with zipfile.ZipFile(out, "w") as z:',
        '    for n in zin.namelist():',
        '        if n != prefix + "/" + record: z.writestr(n, zin.read(n))',
        '    info = zipfile.ZipInfo(prefix + "/" + record)',
        '    info.create_system = 3',
        '    info.external_attr = (stat.S_IFLNK | 0o777) << 16',
        '    z.writestr(info, target)',
      ].join('\n'), made, out, record, target], { stdio: 'ignore' });
      return out;
    };
    for (const [record, file] of [['data/0', 'link-data.pt'], ['data/9', 'link-extra.pt']] as const) {
      const path = linked(record, '/etc/passwd', file);
      expect(refusal(() => readTorchArchive(path)).message).toMatch(new RegExp(`zip entry '\\w+/${record}' is a symbolic link`));
    }
  });

  it('refuses a directory entry that reads another entry\'s bytes: a local header naming another entry, or entries sharing bytes (QA s17)', () => {
    // Stored tensor records are read lazily without their CRC, so data/1 pointed at data/0 read the weight as the bias
    // (torch.jit.load does the same); Python's zipfile refuses the first form ("File name in directory … and header … differ").
    const made = join(dir, 'linear-for-overlap.pt');
    execFileSync(PYTHON, ['-c', 'import torch, sys; torch.manual_seed(0); torch.jit.save(torch.jit.script(torch.nn.Linear(2, 3)), sys.argv[1])', made], { stdio: 'ignore' });
    expect(readTorchScript(made, { inputs: [{ shape: [1, 2] }] }).graph.constants).toHaveLength(2);
    const forged = (how: 'header' | 'inside', file: string): string => {
      const out = join(dir, file);
      execFileSync(PYTHON, ['-c', [
        'import struct, sys, zipfile, zlib',
        'src, out, how = sys.argv[1:4]',
        'zin = zipfile.ZipFile(src); prefix = zin.namelist()[0].split("/")[0]',
        'd0, d1 = prefix + "/data/0", prefix + "/data/1"',
        'bias = zin.read(d1)',
        'header = struct.pack("<IHHHHHIIIHH", 0x04034b50, 20, 0, 0, 0, 0, zlib.crc32(bias), len(bias), len(bias), len(d1), 0) + d1.encode()',
        'with zipfile.ZipFile(out, "w") as z:',
        '    for n in zin.namelist(): z.writestr(n, header + bias + zin.read(n) if (how == "inside" and n == d0) else zin.read(n))',
        'b = bytearray(open(out, "rb").read())',
        'eocd = b.rfind(b"PK\\x05\\x06"); count = struct.unpack_from("<H", b, eocd + 10)[0]; at = struct.unpack_from("<I", b, eocd + 16)[0]',
        'entries = {}',
        'for _ in range(count):',
        '    nl, el, cl = struct.unpack_from("<HHH", b, at + 28); entries[bytes(b[at + 46:at + 46 + nl]).decode()] = at; at += 46 + nl + el + cl',
        'local0 = struct.unpack_from("<I", b, entries[d0] + 42)[0]',
        'data0 = local0 + 30 + struct.unpack_from("<H", b, local0 + 26)[0] + struct.unpack_from("<H", b, local0 + 28)[0]',
        'struct.pack_into("<I", b, entries[d1] + 42, local0 if how == "header" else data0)',
        'open(out, "wb").write(b)',
      ].join('\n'), made, out, how], { stdio: 'inherit' });
      return out;
    };
    const header = forged('header', 'overlap-header.pt');
    expect(() => execFileSync(PYTHON, ['-c', 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).read(zipfile.ZipFile(sys.argv[1]).namelist()[1])', header], { stdio: 'pipe' })).toThrow(/differ/);
    expect(refusal(() => readTorchArchive(header)).message).toMatch(/the local header of zip entry '[^/']+\/data\/1' names another entry \("[^/"]+\/data\/0"\)/);
    // a well-formed header for data/1 hidden inside data/0's bytes: the names agree, the ranges overlap
    expect(refusal(() => readTorchArchive(forged('inside', 'overlap-inside.pt'))).message).toMatch(/zip entries '[^/']+\/data\/0' and '[^/']+\/data\/1' overlap in the file/);
  });

  it('a torch.save dict read as a module says what the file is and how to save the module', () => {
    const path = join(dir, 'weights.pt');
    execFileSync(PYTHON, ['-c', 'import torch, sys; torch.save(torch.nn.Linear(2, 2).state_dict(), sys.argv[1])', path], { stdio: 'ignore' });
    const error = refusal(() => readTorchScript(path));
    expect(error.message).toContain('data.pkl holds a dict, not a scripted module: this is a torch.save file');
    expect(error.diagnostics[0]!.hint).toContain('torch.jit.save(torch.jit.script(model), PATH)');
  });

  it('torch.save(model) (classes pickled by name) is refused with the way to save a module this reads', () => {
    const layer = join(dir, 'whole-layer.pt');
    const own = join(dir, 'whole-own.pt');
    execFileSync(PYTHON, ['-c', [
      'import torch, sys',
      'class Net(torch.nn.Module):',
      '    def __init__(self):',
      '        super().__init__()',
      '        self.fc = torch.nn.Linear(2, 2)',
      '    def forward(self, x):',
      '        return self.fc(x)',
      'torch.save(torch.nn.Linear(2, 2), sys.argv[1])',
      'torch.save(Net(), sys.argv[2])',
    ].join('\n'), layer, own], { stdio: 'ignore' });
    for (const [path, global] of [[layer, 'torch.nn.modules.linear.Linear'], [own, '__main__.Net']] as const) {
      const error = refusal(() => readTorchScript(path));
      expect(error.message).toContain(`global '${global}' is not allowed`);
      expect(error.diagnostics[0]!.hint).toContain('looks like torch.save(model)');
      expect(error.diagnostics[0]!.hint).toContain('torch.jit.save(torch.jit.script(model), PATH)');
    }
    // a code-running global gets no such hint
    expect(refusal(() => readPickle(reducePickle('os', 'system', 'true'), { source: 'evil.pkl' })).diagnostics[0]!.hint).toBeUndefined();
  });

  it('refuses a folder and a FIFO by name instead of hanging', () => {
    expect(() => readTorchArchive(dir)).toThrow(/a folder, not a regular file/);
    const fifo = join(dir, 'pipe.pt');
    execFileSync('mkfifo', [fifo]);
    expect(() => readTorchArchive(fifo)).toThrow(/FIFO/);
  });
});
