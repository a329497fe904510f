import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Model, Tensor, decodeElements } from '@modelpass/ir';
import { loadStateDict, readStateDict } from '@modelpass/torchscript';

const fixtures = join(import.meta.dirname, '..', '..', 'fixtures', 'archive');

function modelWith(constants: Record<string, Tensor>): Model {
  const model = new Model();
  for (const [name, tensor] of Object.entries(constants)) model.graph.addConstant(name, tensor);
  return model;
}

const zeros = (shape: number[]): Tensor => Tensor.fromValues('float32', shape, new Array(shape.reduce((a, b) => a * b, 1)).fill(0));

describe('loading a torch.save state dict onto a model by name', () => {
  it('loads matching names, reports missing, unexpected and mismatched ones', () => {
    const weights = readStateDict(join(fixtures, 'state_dict.pt'));
    const model = modelWith({ 'fc.weight': zeros([2, 4]), 'fc.bias': zeros([3]), 'head.weight': zeros([5]) });
    const report = loadStateDict(model, weights);
    expect(report.loaded).toEqual(['fc.weight']);
    expect(report.mismatched).toEqual([{ name: 'fc.bias', expected: 'float32[3]', actual: 'float32[2]' }]);
    expect(report.missing).toEqual(['head.weight']);
    expect(report.unexpected).toContain('conv.weight');
    const loaded = model.graph.constants.find((v) => v.name === 'fc.weight')!.constant!;
    const source = weights.get('fc.weight')!;
    expect(Array.from(decodeElements('float32', loaded.bytes(), 8) as Float32Array)).toEqual(Array.from(decodeElements('float32', source.bytes(), 8) as Float32Array));
    // the mismatched constant is left as it was
    expect(Array.from(decodeElements('float32', model.graph.constants.find((v) => v.name === 'fc.bias')!.constant!.bytes(), 3) as Float32Array)).toEqual([0, 0, 0]);
  });

  it('renames (e.g. a DataParallel "module." prefix) and refuses in strict mode with the list', () => {
    const weights = new Map([...readStateDict(join(fixtures, 'state_dict.pt'))].map(([name, t]) => [`module.${name}`, t]));
    const model = modelWith({ 'fc.weight': zeros([2, 4]) });
    expect(loadStateDict(model, weights, { rename: (n) => n.replace(/^module\./, '') }).loaded).toEqual(['fc.weight']);
    expect(() => loadStateDict(model, weights, { strict: true })).toThrow(/do not fit the model: 1 missing, \d+ unexpected, 0 mismatched[\s\S]*missing: fc\.weight/);
  });

  it('reads a scripted module\'s parameters and buffers as a state dict too', () => {
    const weights = readStateDict(join(fixtures, 'scripted.pt'));
    expect([...weights.keys()]).toEqual(expect.arrayContaining(['conv.weight', 'bn.running_mean', 'bn.num_batches_tracked', 'fc.bias', 'steps']));
    expect(weights.get('steps')!.dtype).toBe('int64');
  });
});
