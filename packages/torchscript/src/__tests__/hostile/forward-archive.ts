/**
 * A hand-made TorchScript archive whose module `__torch__.M` has the given `forward` body (source lines indented
 * four spaces; `x: Tensor` in, Tensor out), no parameters and no tensors: for tests of what the importer does
 * with source that no torch would write.
 */
import { join } from 'node:path';
import { writeTorchArchive } from '@modelpass/torchscript';

/** Writes `<dir>/<name>.pt` (archive prefix `name`) and returns its path. */
export function archiveWithForward(dir: string, name: string, body: string): string {
  const source = ['class M(Module):', '  __parameters__ = []', '  __buffers__ = []', '  training : bool', '  def forward(self: __torch__.M,', '    x: Tensor) -> Tensor:', body, ''].join('\n');
  const path = join(dir, `${name}.pt`);
  writeTorchArchive(path, {
    prefix: name, version: 3, code: new Map([['code/__torch__.py', source]]),
    data: { kind: 'object', className: '__torch__.M', state: { kind: 'dict', entries: [[{ kind: 'string', value: 'training' }, { kind: 'bool', value: false }]] } },
    constants: { kind: 'tuple', items: [] }, tensors: new Map(),
  });
  return path;
}
