/**
 * What a scripted torchvision detection model (ssdlite320, fasterrcnn) meets first, read with its images wrapped
 * (QA s20): `forward(images: List[Tensor], targets: Optional[List[Dict[str, Tensor]]] = None)` is refused at the
 * signature, naming the argument and its type (it was read as one tensor and failed deep inside at 'indexing a
 * tensor with tensor'); the transform's `torch.as_tensor(self.image_mean, dtype=dtype, device=device)` is read, and so is
 * interpolate's `torch.floor(float(size) * scale)` (an int in TorchScript; it was a float tensor, refused as a size); building
 * an `ImageList` (a TorchScript class object) is refused naming the class (it read 'the archive has no function or class
 * …ImageList.__new__ to call', though the archive holds that class).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ModelpassError, Tensor } from '@modelpass/ir';
import { runOrt } from '@modelpass/runtime';
import { readTorchScript, writeTorchArchive } from '@modelpass/torchscript';

const dir = mkdtempSync(join(tmpdir(), 'modelpass-torchscript-detection-transform-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const HOLDER = [
  'class Holder:',
  '  value : Tensor',
  '  def __init__(self: __torch__.holder.Holder,',
  '    value: Tensor) -> NoneType:',
  '    self.value = value',
  '    return None',
  '',
].join('\n');

function archiveOf(name: string, signature: string[], body: string[]): string {
  const source = [`class ${name}(Module):`, '  __parameters__ = []', '  __buffers__ = []', '  training : bool', `  def forward(self: __torch__.${name},`, ...signature.map((line) => `    ${line}`), ...body.map((line) => `    ${line}`), ''].join('\n');
  const path = join(dir, `${name}.pt`);
  writeTorchArchive(path, {
    prefix: name.toLowerCase(),
    version: 3,
    code: new Map([['code/__torch__.py', source], ['code/__torch__/holder.py', HOLDER]]),
    data: { kind: 'object', className: `__torch__.${name}`, state: { kind: 'dict', entries: [[{ kind: 'string', value: 'training' }, { kind: 'bool', value: false }]] } },
    constants: { kind: 'tuple', items: [] },
    tensors: new Map(),
  });
  return path;
}

function errorOf(read: () => unknown): ModelpassError {
  try {
    read();
  } catch (error) {
    if (error instanceof ModelpassError) return error;
    throw error;
  }
  throw new Error('expected the read to fail');
}

describe('scripted detection models, read as far as they go', () => {
  it('refuses a List[Tensor] forward argument at the signature, with a way to wrap the model', () => {
    const path = archiveOf('Detector', ['images: List[Tensor],', 'targets: Optional[List[Dict[str, Tensor]]]=None) -> Tensor:'], ['_0 = images[0]', 'return torch.relu(_0)']);
    const error = errorOf(() => readTorchScript(path, { inputs: { images: { shape: [3, 8, 8] } } }));
    expect(error.message).toMatch(/__torch__\.py:5:\d+: forward argument 'images' is typed List\[Tensor\]; only Tensor arguments become graph inputs/);
    expect(error.diagnostics[0]!.hint).toMatch(/self\.model\(\[image\]\)/);
  });

  it('reads an Optional container left at its default None as None, with a note', async () => {
    const notes: string[] = [];
    const path = archiveOf('WithTargets', ['image: Tensor,', 'targets: Optional[List[Dict[str, Tensor]]]=None) -> Tensor:'], [
      'if torch.__is__(targets, None):',
      '  _0 = torch.relu(image)',
      'else:',
      '  _0 = image',
      'return _0',
    ]);
    const model = readTorchScript(path, { inputs: { image: { shape: [2, 3] } }, onNote: (note) => notes.push(note) });
    expect(model.graph.inputs.map((input) => input.name)).toEqual(['image']);
    expect(notes.join('\n')).toMatch(/forward argument 'targets' \(Optional\[List\[Dict\[str, Tensor\]\]\]\) is None/);
    const image = Tensor.fromValues('float32', [2, 3], [-1, 2, -3, 4, -5, 6]);
    expect([...(await runOrt(model, { image })).values()][0]!.toNumbers()).toEqual([0, 2, 0, 4, 0, 6]);
  });

  it("reads torch.as_tensor of known numbers and of a tensor (the transform's normalize)", async () => {
    const path = archiveOf('Normalize', ['image: Tensor) -> Tensor:'], [
      'dtype = ops.prim.dtype(image)',
      'device = ops.prim.device(image)',
      'mean = torch.as_tensor([0.5, 1., 2.], dtype=dtype, device=device)',
      'std = torch.as_tensor(torch.ones([3], dtype=4), dtype=dtype, device=device)',
      '_0 = torch.sub(image, torch.unsqueeze(torch.unsqueeze(mean, 1), 2))',
      'return torch.div(_0, torch.unsqueeze(torch.unsqueeze(std, 1), 2))',
    ]);
    const model = readTorchScript(path, { inputs: { image: { shape: [3, 1, 2] } } });
    const image = Tensor.fromValues('float32', [3, 1, 2], [1, 2, 3, 4, 5, 6]);
    expect([...(await runOrt(model, { image })).values()][0]!.toNumbers()).toEqual([0.5, 1.5, 2, 3, 3, 4]);
  });

  it("reads floor/ceil of a Python float as an int (interpolate's output size: floor(float(size) * scale))", () => {
    const path = archiveOf('Sizes', ['image: Tensor) -> Tensor:'], [
      '_0 = torch.floor(torch.mul(float(torch.size(image, 1)), 0.5))',
      '_1 = torch.ceil(3.5)',
      'return torch.view(image, [_0, _1])',
    ]);
    const model = readTorchScript(path, { inputs: { image: { shape: [2, 6] } } });
    const type = model.graph.outputs[0]!.type;
    expect(type.kind === 'tensor' ? type.shape : undefined).toEqual([3, 4]);
  });

  it('reads torch.numel as an int (it was an opaque op of the input dtype), so floor(float(numel) * k) is a size', () => {
    const path = archiveOf('NumelSizes', ['image: Tensor) -> Tensor:'], ['_0 = torch.floor(torch.mul(float(torch.numel(image)), 0.25))', 'return torch.view(image, [_0, -1])']);
    const model = readTorchScript(path, { inputs: { image: { shape: [2, 6] } } });
    const type = model.graph.outputs[0]!.type;
    expect(type.kind === 'tensor' ? type.shape : undefined).toEqual([3, 4]);
  });

  it('reads torch.numel of a symbolic shape as an int64 Size', async () => {
    const path = archiveOf('SymbolicNumel', ['image: Tensor) -> Tensor:'], ['return torch.mul(image, float(torch.numel(image)))']);
    const model = readTorchScript(path, { inputs: { image: { shape: ['n', 2] } } });
    const image = Tensor.fromValues('float32', [3, 2], [1, 2, 3, 4, 5, 6]);
    expect([...(await runOrt(model, { image })).values()][0]!.toNumbers()).toEqual([6, 12, 18, 24, 30, 36]);
  });

  it('refuses building an object of a TorchScript class, naming the class', () => {
    const path = archiveOf('Builds', ['image: Tensor) -> Tensor:'], ['holder = __torch__.holder.Holder.__new__(__torch__.holder.Holder)', '_0 = (holder).__init__(image, )', 'return torch.relu(image)']);
    const error = errorOf(() => readTorchScript(path, { inputs: { image: { shape: [2] } } }));
    expect(error.message).toMatch(/__torch__\.py:7:\d+: forward builds an object of the TorchScript class __torch__\.holder\.Holder; objects of script classes are not read/);
  });
});
