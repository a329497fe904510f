/**
 * Whole training graphs of the Fashion-MNIST fixtures, run in ONNX Runtime, against PyTorch's
 * autograd on the same weights and batch of 8 (scripts/torch-reference-grads.py rebuilds each ONNX
 * graph as eager torch ops in float64 and runs loss.backward()). Every gradient of every trainable
 * initializer must agree within 1e-4 relative to the largest element of that gradient.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Tensor } from '@modelpass/ir';
import { readOnnx } from '@modelpass/onnx';
import { loadTestDataSet, readNpy, runOrt } from '@modelpass/runtime';
import { buildGradientGraph } from '@modelpass/train';
import { beforeAll, describe, expect, it } from 'vitest';
import { fixtureFolder, torchReference } from './torch-reference.js';

/** The first 8 labels of Fashion-MNIST's test set (the images of test_data_set_0). */
const LABELS = [9, 2, 1, 1, 6, 1, 4, 6];

const MODELS = ['fashion-mlp', 'fashion-cnn', 'fashion-resnet', 'fashion-transformer', 'fashion-transformer-opset17'];
const labels = Tensor.fromValues('int64', [8], LABELS.map(BigInt));
let work = '';

describe('whole-model gradients against PyTorch', () => {
  beforeAll(async () => {
    work = await torchReference(MODELS, labels, 'train-torch-'); // one torch start for every model
  });

  for (const name of MODELS) {
    it(`${name}: every initializer's gradient equals torch's within 1e-4`, async () => {
      const folder = fixtureFolder(name);
      const model = await readOnnx(join(folder, 'model.onnx'));
      const training = buildGradientGraph(model, { loss: { kind: 'cross-entropy' } });
      const data = await loadTestDataSet(join(folder, 'test_data_set_0'), model);
      const [inputName, images] = [...data.inputs][0]!;
      const names = JSON.parse(readFileSync(join(work, name, 'names.json'), 'utf8')) as Record<string, string>;
      const torchGrads = new Map(Object.entries(names).map(([index, param]) => [param, readNpy(join(work, name, `${index}.npy`))]));

      const outputs = await runOrt(training.model, { [inputName]: images, labels });
      const torchLoss = readNpy(join(work, name, 'loss.npy')).toNumbers()[0]!;
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
