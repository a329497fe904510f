import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Tensor, decodeElements } from '@modelpass/ir';
import { readNpy } from '@modelpass/runtime';
import { readTorchArchive, stateDictOf, readStateDict, writeTorchArchive, ZipFile, type TorchArchive } from '@modelpass/torchscript';
import { makeTorchFixtures, runPython, torchRun, type TensorRecord, type TorchFixtures } from './torch/torch-fixtures.js';

let fx: TorchFixtures;
beforeAll(() => {
  fx = makeTorchFixtures();
}, 180_000);
afterAll(() => fx?.cleanup());

function expectTensorsEqual(actual: Map<string, Tensor>, expected: Record<string, TensorRecord>): void {
  expect([...actual.keys()].sort()).toEqual(Object.keys(expected).sort());
  for (const [name, record] of Object.entries(expected)) {
    const tensor = actual.get(name)!;
    expect(tensor.shape, name).toEqual(record.shape);
    expect(tensor.dtype, name).toBe(record.dtype);
    const values = Array.from(decodeElements(tensor.dtype, tensor.bytes(), tensor.size) as ArrayLike<number | bigint>, Number);
    expect(values, name).toEqual(record.values);
  }
}

/** The same records written back by this package's writer (storages as raw bytes). */
function writeBack(archive: TorchArchive, path: string, version = archive.version): void {
  const storages = (folder: string): Map<string, Tensor> => {
    const out = new Map<string, Tensor>();
    for (const name of archive.records) {
      if (!name.startsWith(`${folder}/`)) continue;
      const bytes = archive.record(name);
      out.set(name.slice(folder.length + 1), Tensor.fromBytes('uint8', [bytes.byteLength], bytes));
    }
    return out;
  };
  writeTorchArchive(path, {
    prefix: archive.prefix,
    version,
    code: archive.code,
    data: archive.data,
    constants: archive.constants,
    tensors: storages('data'),
    constantTensors: storages('constants'),
  });
}

describe.each(['scripted', 'traced'] as const)('a %s TorchScript archive made by torch', (name) => {
  it('reads its records, code and every tensor with torch\'s values', () => {
    const archive = readTorchArchive(fx.path(`${name}.pt`));
    expect(archive.prefix).toBe(name);
    expect(archive.version).toBeGreaterThanOrEqual(3);
    expect([...archive.code.values()].join('\n')).toMatch(/class (Block|___torch_mangle_\d+)\(Module\):/);
    expect(archive.data).toMatchObject({ kind: 'object', className: expect.stringMatching(/^__torch__\.(___torch_mangle_\d+\.)?Block$/) });
    expect(archive.constants.kind).toBe('tuple');
    expectTensorsEqual(stateDictOf(archive), fx.tensors(name));
  });

  it('writes the same records back into an archive torch loads and runs with identical outputs', () => {
    const archive = readTorchArchive(fx.path(`${name}.pt`));
    const written = join(fx.dir, `${name}.written.pt`);
    writeBack(archive, written);
    // stored tensors start on 64-byte boundaries, as torch reads them in place
    for (const entry of ZipFile.open(written).entries) {
      if (entry.name.includes('/data/')) expect(entry.dataOffset % 64, entry.name).toBe(0);
    }
    const output = join(fx.dir, `${name}.written.out.npy`);
    const resaved = join(fx.dir, `${name}.resaved.pt`);
    runPython(join(import.meta.dirname, 'torch', 'run-archive.py'), [written, fx.path('input.npy'), output, resaved]);
    const ours = readNpy(output);
    const torchs = readNpy(fx.path(`${name}.expected.npy`));
    expect(ours.shape).toEqual(torchs.shape);
    expect(Buffer.from(ours.bytes()).equals(Buffer.from(torchs.bytes()))).toBe(true);
    // torch re-saves our archive; it reads back here with the same tensors
    expect(existsSync(resaved)).toBe(true);
    expectTensorsEqual(stateDictOf(readTorchArchive(resaved)), fx.tensors(name));
  }, 120_000);
});

describe('version records', () => {
  it('from version 6 on the record is .data/version, and torch loads and runs the archive', () => {
    const written = join(fx.dir, 'v6.pt');
    writeBack(readTorchArchive(fx.path('scripted.pt')), written, 6);
    const again = readTorchArchive(written);
    expect(again.version).toBe(6);
    expect(again.records.filter((r) => r.includes('version'))).toEqual(['.data/version']);
    const output = join(fx.dir, 'v6.out.npy');
    runPython(join(import.meta.dirname, 'torch', 'run-archive.py'), [written, fx.path('input.npy'), output]);
    expect(Buffer.from(readNpy(output).bytes()).equals(Buffer.from(readNpy(fx.path('scripted.expected.npy')).bytes()))).toBe(true);
  }, 120_000);
});

describe('a torch.save state dict', () => {
  it('reads as weights by name, strided and offset views included', () => {
    const weights = readStateDict(fx.path('state_dict.pt'));
    expectTensorsEqual(weights, fx.tensors('state_dict'));
    expect(readTorchArchive(fx.path('state_dict.pt')).data).toMatchObject({ kind: 'dict', ordered: true });
  });

  it('written back by this package, torch.load gives the same tensors', () => {
    const archive = readTorchArchive(fx.path('state_dict.pt'));
    const written = join(fx.dir, 'state_dict.written.pt');
    writeBack(archive, written);
    const out = runPython('-c', [
      `import torch,json,sys; sd=torch.load(sys.argv[1]); print(json.dumps({k:v.reshape(-1).tolist() for k,v in sd.items()}))`,
      written,
    ]);
    const loaded = JSON.parse(out) as Record<string, number[]>;
    for (const [name, record] of Object.entries(fx.tensors('state_dict'))) expect(loaded[name], name).toEqual(record.values);
  });
});
