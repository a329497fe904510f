/**
 * Whole training graphs of the Fashion-MNIST fixtures, run in ONNX Runtime, against PyTorch's
 * autograd on the same weights and batch of 8 (scripts/torch-reference-grads.py rebuilds each ONNX
 * graph as eager torch ops in float64 and runs loss.backward()). Every gradient of every trainable
 * initializer must agree within 1e-4 relative to the largest element of that gradient.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Tensor } from '@modelpass/ir';
import { readOnnx } from '@modelpass/onnx';
import { loadTestDataSet, readNpy, runOrt, writeNpy } from '@modelpass/runtime';
import { buildGradientGraph } from '@modelpass/train';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../../../', import.meta.url));
const script = fileURLToPath(new URL('../../scripts/torch-reference-grads.py', import.meta.url));
/** The first 8 labels of Fashion-MNIST's test set (the images of test_data_set_0). */
const LABELS = [9, 2, 1, 1, 6, 1, 4, 6];

describe('whole-model gradients against PyTorch', () => {
  for (const name of ['fashion-mlp', 'fashion-cnn', 'fashion-resnet', 'fashion-transformer', 'fashion-transformer-opset17']) {
    it(`${name}: every initializer's gradient equals torch's within 1e-4`, async () => {
      const folder = join(root, 'fixtures/models', name);
      const model = await readOnnx(join(folder, 'model.onnx'));
      const training = buildGradientGraph(model, { loss: { kind: 'cross-entropy' } });
      const data = await loadTestDataSet(join(folder, 'test_data_set_0'), model);
      const [inputName, images] = [...data.inputs][0]!;
      const labels = Tensor.fromValues('int64', [8], LABELS.map(BigInt));

      const work = mkdtempSync(join(tmpdir(), `train-${name}-`));
      writeNpy(images, join(work, 'input.npy'));
      writeNpy(labels, join(work, 'labels.npy'));
      execFileSync('/usr/bin/python3', [script, join(folder, 'model.onnx'), join(work, 'input.npy'), join(work, 'labels.npy'), join(work, 'grads')], { stdio: 'pipe' });
      const names = JSON.parse(readFileSync(join(work, 'grads/names.json'), 'utf8')) as Record<string, string>;
      const torchGrads = new Map(Object.entries(names).map(([index, param]) => [param, readNpy(join(work, 'grads', `${index}.npy`))]));

      const outputs = await runOrt(training.model, { [inputName]: images, labels });
      const torchLoss = readNpy(join(work, 'grads/loss.npy')).toNumbers()[0]!;
      expect(Math.abs(outputs.get('loss')!.toNumbers()[0]! - torchLoss) / torchLoss).toBeLessThan(1e-5);
      expect(training.gradients.size).toBeGreaterThan(3);
      let worstOverall = 0;
      for (const [param, output] of training.gradients) {
        const expected = torchGrads.get(param);
        expect(expected, `torch has a gradient for ${param}`).toBeDefined();
        const actual = outputs.get(output)!.toNumbers();
        const reference = expected!.toNumbers();
        expect(actual.length).toBe(reference.length);
        const scale = Math.max(...reference.map(Math.abs));
        const worst = Math.max(...reference.map((r, i) => Math.abs(r - actual[i]!)));
        expect(worst / scale, `grad.${param}: max |ort − torch| / max |torch|`).toBeLessThan(1e-4);
        worstOverall = Math.max(worstOverall, worst / scale);
      }
      expect([...torchGrads.keys()].filter((param) => !training.gradients.has(param))).toEqual([]);
      if (process.env.TRAIN_FIGURES) console.log(`FIGURES ${name}: ${training.gradients.size} gradients, worst ${worstOverall.toExponential(2)}`);
    });
  }
});
