/**
 * A torchvision model's whole training graph against PyTorch: resnet18 (torchvision 0.14, seeded
 * random weights, exported by tools/fixtures/make_torchvision.py at 64×64, opset 13, BatchNorm folded
 * by the export) with a batch of 2, every initializer's gradient from ONNX Runtime within 1e-4 of the
 * largest element of torch's float64 autograd gradient (scripts/torch-reference-grads.py), the loss
 * within 1e-5 relative. Needs Debian's python3-torch and python3-torchvision (tools/setup.sh).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Tensor } from '@modelpass/ir';
import { readOnnx } from '@modelpass/onnx';
import { readNpy, runOrt, writeNpy } from '@modelpass/runtime';
import { buildGradientGraph } from '@modelpass/train';
import { describe, expect, it } from 'vitest';
import { seeded } from './gradcheck.js';

const root = fileURLToPath(new URL('../../../../', import.meta.url));
const script = fileURLToPath(new URL('../../scripts/torch-reference-grads.py', import.meta.url));
const cache = join(root, '.fixtures-cache', 'torchvision-train');

describe('torchvision resnet18: whole-model gradients against PyTorch', () => {
  it('every initializer gradient (batch 2, 64×64) equals torch autograd within 1e-4', async () => {
    execFileSync('/usr/bin/python3', [join(root, 'tools/fixtures/make_torchvision.py'), 'resnet18', '--size', '64', '--out', cache], { stdio: 'pipe' });
    const modelPath = join(cache, 'resnet18.onnx');
    const model = await readOnnx(modelPath);
    const work = mkdtempSync(join(tmpdir(), 'train-resnet18-'));
    const rng = seeded(21);
    const images = Tensor.fromValues('float32', [2, 3, 64, 64], Float32Array.from({ length: 2 * 3 * 64 * 64 }, () => 2 * rng() - 1));
    const labels = Tensor.fromValues('int64', [2], [281n, 917n]);
    writeNpy(images, join(work, 'input.npy'));
    writeNpy(labels, join(work, 'labels.npy'));
    execFileSync('/usr/bin/python3', [script, modelPath, join(work, 'input.npy'), join(work, 'labels.npy'), join(work, 'out')], { stdio: 'pipe' });

    const training = buildGradientGraph(model, { loss: { kind: 'cross-entropy' } });
    const outputs = await runOrt(training.model, { input: images, labels });
    const torchLoss = readNpy(join(work, 'out', 'loss.npy')).toNumbers()[0]!;
    expect(Math.abs(outputs.get(training.loss)!.toNumbers()[0]! - torchLoss) / torchLoss).toBeLessThan(1e-5);
    const names = JSON.parse(readFileSync(join(work, 'out', 'names.json'), 'utf8')) as Record<string, string>;
    const torchGrads = new Map(Object.entries(names).map(([index, param]) => [param, join(work, 'out', `${index}.npy`)]));
    expect(training.gradients.size).toBeGreaterThanOrEqual(40); // 20 folded convs (weight + bias) and the fc layer
    expect([...torchGrads.keys()].filter((param) => !training.gradients.has(param))).toEqual([]);
    let worstOverall = 0;
    for (const [param, output] of training.gradients) {
      const file = torchGrads.get(param);
      expect(file, `torch has a gradient for ${param}`).toBeDefined();
      const reference = readNpy(file!).data() as Float64Array;
      const actual = outputs.get(output)!.data() as Float32Array;
      expect(actual.length).toBe(reference.length);
      let scale = 0;
      let worst = 0;
      for (let i = 0; i < reference.length; i++) {
        scale = Math.max(scale, Math.abs(reference[i]!));
        worst = Math.max(worst, Math.abs(reference[i]! - actual[i]!));
      }
      expect(scale, `torch's gradient of ${param} is not all zero`).toBeGreaterThan(0);
      expect(worst / scale, `grad.${param}: max |ort − torch| / max |torch|`).toBeLessThan(1e-4);
      worstOverall = Math.max(worstOverall, worst / scale);
    }
    if (process.env.TRAIN_FIGURES) console.log(`FIGURES resnet18: ${training.gradients.size} gradients, worst ${worstOverall.toExponential(2)}`);
  }, 300_000);
});
