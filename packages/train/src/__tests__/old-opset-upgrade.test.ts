/**
 * note12 item 4: train and distill refused a model below onnx opset 13 ("autodiff needs onnx opset 13 or newer"),
 * while quantize upgrades opsets 7–12 to 13 where every node means the same. The upgrade now lives in
 * @modelpass/transforms and train/distill use it with quantize's warning. The fixture is torch.onnx.export at
 * opset 11 (Debian torch, /usr/bin/python3): its ReduceSum takes axes as an attribute, an input from 13.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { attrs, GraphBuilder, Tensor, tensorType } from '@modelpass/ir';
import { encodeOnnx, readOnnx } from '@modelpass/onnx';
import { createOpRegistry } from '@modelpass/ops';
import { PassEnvironment, PassManager, PassRegistry } from '@modelpass/pass-manager';
import { disposeSharedOrtRunner, runOrt } from '@modelpass/runtime';
import { distillPasses, trainableInitializers, trainPasses } from '@modelpass/train';
import { afterAll, describe, expect, it } from 'vitest';

const work = mkdtempSync(join(tmpdir(), 'modelpass-train-opset11-'));
afterAll(async () => {
  rmSync(work, { recursive: true, force: true });
  await disposeSharedOrtRunner();
});

const MAKE = `
import sys, torch
torch.manual_seed(0)
class Net(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(1, 4, 3, stride=2)
        self.fc = torch.nn.Linear(4 * 13 * 13, 10)
    def forward(self, x):
        y = torch.relu(self.conv(x.sum(1, keepdim=True)))
        return self.fc(torch.flatten(y, 1))
torch.onnx.export(Net(), torch.zeros(1, 1, 28, 28), sys.argv[1] + '/opset11.onnx', input_names=['input'], output_names=['logits'],
                  dynamic_axes={'input': {0: 'N'}, 'logits': {0: 'N'}}, opset_version=11)
`;
writeFileSync(join(work, 'make.py'), MAKE);
execFileSync('/usr/bin/python3', [join(work, 'make.py'), work], { stdio: ['ignore', 'ignore', 'inherit'] });
const opset11 = join(work, 'opset11.onnx');

const manager = () => new PassManager({ environment: new PassEnvironment({ passes: new PassRegistry([...trainPasses, ...distillPasses], '@modelpass/train'), ops: createOpRegistry() }) });
const warnings = (result: { diagnostics: readonly { severity: string; reason: string; source?: string }[] }) => result.diagnostics.filter((d) => d.severity === 'warning');
const UPGRADE_WARNING = 'the model imported onnx opset 11, which cannot hold the opset-13 ops autodiff writes into the training graph; it now imports opset 13, with ReduceSum ×1 rewritten to their opset-13 inputs';

describe('train and distill upgrade an opset-11 torch export as quantize does', () => {
  it('train: trains the weights, warns once with the shared upgrade warning, and the model runs in ONNX Runtime at opset 13', async () => {
    const [model, original] = [readOnnx(opset11), readOnnx(opset11)];
    expect(model.opset('onnx')).toBe(11);
    const result = await manager().run(model, 'train{dataset=fashion-mnist:train samples=128 epochs=1 batch=32 lr=0.01 threads=1}');
    expect(warnings(result).map((d) => [d.reason, d.source])).toEqual([[UPGRADE_WARNING, '@modelpass/train']]);
    expect(model.opset('onnx')).toBe(13);
    const changed = trainableInitializers(original).filter((name) => !model.graph.getValue(name)!.constant!.equals(original.graph.getValue(name)!.constant!));
    expect(changed.length).toBeGreaterThan(0);
    const x = Tensor.fromValues('float32', [4, 1, 28, 28], Array.from({ length: 4 * 784 }, (_, i) => (i % 7) / 7));
    const logits = (await runOrt(encodeOnnx(model), { input: x })).get('logits')!;
    expect(logits.shape).toEqual([4, 10]);
  }, 60_000);

  it('distill: the opset-11 student learns from its opset-11 teacher, with the same warning', async () => {
    const student = readOnnx(opset11);
    const result = await manager().run(student, `distill{teacher=${opset11} dataset=fashion-mnist:train samples=64 epochs=1 batch=32 lr=0.01 threads=1}`);
    expect(warnings(result).map((d) => d.reason)).toEqual([UPGRADE_WARNING]);
    expect(student.opset('onnx')).toBe(13);
  }, 60_000);

  it('a node whose meaning changed at opset 13 keeps the model there: refused, naming the node', async () => {
    const b = new GraphBuilder();
    const x = b.input('x', tensorType('float32', ['N', 4, 5]));
    const w = b.constant(Tensor.fromValues('float32', [4, 5], Array.from({ length: 20 }, (_, i) => Math.sin(i))), 'w');
    b.output(b.op1('onnx.Softmax', [b.op1('onnx.Mul', [x, w])], { axis: attrs.int(1) }, { name: 'softmax_axis1' }));
    const model = b.model({ onnx: 11 });
    await expect(manager().run(model, 'train{dataset=fashion-mnist:train samples=32 epochs=1 batch=32}')).rejects.toThrow(
      "train needs onnx opset 13 or newer (the opset-13 ops autodiff writes into the training graph); the model imports opset 11, and 1 node(s) keep it there: Softmax 'softmax_axis1' (it normalizes from axis 1 of a rank-3 input, which opset 13 reads as that one axis only)",
    );
    expect(model.opset('onnx')).toBe(11);
  });
});
