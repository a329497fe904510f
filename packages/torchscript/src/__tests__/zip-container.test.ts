import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Tensor } from '@modelpass/ir';
import { ZipFile, writeZip, type ZipWriteEntry } from '@modelpass/torchscript';
import { PYTHON } from './torch/torch-fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'modelpass-zip-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the zip layer', () => {
  it('writes ZIP64 end records past 65,535 entries; Python\'s zipfile and this reader agree on every entry', () => {
    const path = join(dir, 'many.zip');
    const entries: ZipWriteEntry[] = [];
    for (let i = 0; i < 70_000; i++) entries.push({ name: `a/e${i}`, data: Buffer.from(String(i)), deflate: i % 7 === 0 });
    writeZip(path, entries);
    const zip = ZipFile.open(path, { maxEntries: 100_000 });
    expect(zip.entries.length).toBe(70_000);
    expect(Buffer.from(zip.read(zip.entry('a/e69999')!)).toString()).toBe('69999');
    expect(Buffer.from(zip.read(zip.entry('a/e700')!)).toString()).toBe('700');
    const out = execFileSync(PYTHON, ['-c', 'import zipfile,sys; z=zipfile.ZipFile(sys.argv[1]); print(z.testzip(), len(z.namelist()), z.read("a/e69999").decode())', path], { encoding: 'utf8' });
    expect(out.trim()).toBe('None 70000 69999');
    expect(() => ZipFile.open(path)).not.toThrow();
    expect(() => ZipFile.open(path, { maxEntries: 1000 })).toThrow(/70000 entries, more than the limit/);
  }, 60_000);

  it('aligns stored entries to 64 bytes whatever the name length, streams tensors, deflates text', () => {
    const path = join(dir, 'aligned.zip');
    const tensor = Tensor.fromValues('float32', [3], [1, 2, 3]);
    writeZip(path, [
      { name: 'x/code/m.py', data: Buffer.from('def f(x):\n  return x\n'.repeat(50)), deflate: true },
      ...Array.from({ length: 70 }, (_, i): ZipWriteEntry => ({ name: `x/data/${'n'.repeat(i)}`, data: tensor })),
    ]);
    const zip = ZipFile.open(path);
    for (const entry of zip.entries.filter((e) => e.method === 0)) expect(entry.dataOffset % 64, entry.name).toBe(0);
    expect(zip.entry('x/code/m.py')!.method).toBe(8);
    expect(Buffer.from(zip.read(zip.entry('x/data/nnn')!)).equals(Buffer.from(tensor.bytes()))).toBe(true);
    expect(execFileSync(PYTHON, ['-c', 'import zipfile,sys; print(zipfile.ZipFile(sys.argv[1]).testzip())', path], { encoding: 'utf8' }).trim()).toBe('None');
  });

  it('refuses to write a name that escapes, and leaves no file', () => {
    const path = join(dir, 'bad.zip');
    expect(() => writeZip(path, [{ name: '../x', data: new Uint8Array(1) }])).toThrow(/"\.\.\/x" is refused/);
    expect(() => ZipFile.open(path)).toThrow(/does not exist/);
  });

  it('a lazy stored entry keeps reading the archive it came from: replaced by writeZip it still reads the old bytes; rewritten in place it is an error, not other bytes', () => {
    const path = join(dir, 'lazy.zip');
    writeZip(path, [{ name: 'x/data/0', data: Tensor.fromValues('float32', [2], [1, 2]) }]);
    const zip = ZipFile.open(path);
    const storage = zip.storage(zip.entry('x/data/0')!);
    writeZip(path, [{ name: 'x/data/0', data: Tensor.fromValues('float32', [2], [7, 8]) }]);
    expect([...new Float32Array(storage.read().slice().buffer)]).toEqual([1, 2]);

    const inPlace = join(dir, 'in-place.zip');
    writeZip(inPlace, [{ name: 'x/data/0', data: Tensor.fromValues('float32', [2], [1, 2]) }]);
    const lazy = ZipFile.open(inPlace);
    const entry = lazy.entry('x/data/0')!;
    const bytes = readFileSync(inPlace);
    bytes.writeFloatLE(9, entry.dataOffset);
    writeFileSync(inPlace, bytes);
    utimesSync(inPlace, new Date(), new Date(Date.now() + 5_000));
    expect(() => lazy.storage(entry).read()).toThrow(/was changed after the model was read/);
  });
});
