/**
 * Weights by name from a `torch.save` file (zip form: a dict of tensors, possibly nested, e.g. a
 * checkpoint `{'model': state_dict, 'epoch': 3}`) or from a TorchScript archive (the module tree's
 * parameters and buffers, named as `module.state_dict()` names them).
 */
import type { Tensor } from '@modelpass/ir';
import { readTorchArchive } from '../archive/read-archive.js';
import type { TorchArchive, TorchArchiveLimits } from '../archive/types.js';
import { torchscriptError } from '../errors.js';
import type { PickleValue } from '../pickle/pickle-value.js';

export function readStateDict(path: string, limits: TorchArchiveLimits = {}): Map<string, Tensor> {
  return stateDictOf(readTorchArchive(path, limits));
}

/** Every tensor of an archive's data.pkl by its dotted name, in the order written. */
export function stateDictOf(archive: TorchArchive): Map<string, Tensor> {
  const out = new Map<string, Tensor>();
  // A pickle can share one container many times (memo GET), so a small file can describe a
  // tree of 2^64 paths: the walk counts the nodes it visits, not the bytes read.
  let visits = 0;
  const visit = (value: PickleValue, name: string, depth: number): void => {
    if (++visits > MAX_VISITS) {
      throw torchscriptError({
        reason: `data.pkl describes more than ${MAX_VISITS} values once shared references are followed (at '${name}')`,
        location: { file: archive.path },
        code: 'torchscript/state-dict',
      });
    }
    if (depth > 64) throw torchscriptError({ reason: `data.pkl nests deeper than 64 levels at '${name}'`, location: { file: archive.path }, code: 'torchscript/state-dict' });
    switch (value.kind) {
      case 'tensor':
        out.set(name, archive.tensor(value));
        return;
      case 'dict':
        for (const [key, item] of value.entries) {
          if (key.kind === 'string' || key.kind === 'int') visit(item, join(name, String(key.value)), depth + 1);
        }
        return;
      case 'object':
        // a scripted module: its state is a dict of attributes (parameters, buffers, submodules)
        visit(value.state, name, depth + 1);
        return;
      default:
        return;
    }
  };
  visit(archive.data, '', 0);
  if (out.size === 0) {
    throw torchscriptError({
      reason: 'the file holds no tensors to use as weights',
      location: { file: archive.path },
      hint: 'a state dict is saved with torch.save(model.state_dict(), path)',
      code: 'torchscript/state-dict',
    });
  }
  return out;
}

const MAX_VISITS = 1_000_000;

function join(prefix: string, name: string): string {
  return prefix === '' ? name : `${prefix}.${name}`;
}
