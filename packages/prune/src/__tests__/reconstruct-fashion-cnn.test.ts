/**
 * The trained Fashion-MNIST CNN fixture pruned at 25% and 50% of its channels: the result passes
 * verify-each and ONNX's checker, runs in ONNX Runtime, and `reconstruct` recovers at least half of
 * the accuracy lost at 50% (1,000 test images; calibration on 512 training images).
 */
import { existsSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { readOnnx } from '@modelpass/onnx';
import { inferShapes } from '@modelpass/ops';
import { disposeSharedOrtRunner, evaluateAccuracy, FASHION_MNIST_DIR, loadFashionMnist } from '@modelpass/runtime';
import { multiplyAccumulates, onnxChecker, parameterCount, runPrune } from './channels-harness.js';

const MODEL = new URL('../../../../fixtures/models/fashion-cnn/model.onnx', import.meta.url).pathname;
if (!existsSync(FASHION_MNIST_DIR)) throw new Error(`Fashion-MNIST is missing at ${FASHION_MNIST_DIR}: run 'npm run setup' (tools/setup.sh installs Debian's dataset-fashion-mnist); this referee is never skipped`);
const test = loadFashionMnist({ split: 'test', limit: 1000 });

afterAll(() => disposeSharedOrtRunner());

async function accuracy(model: ReturnType<typeof readOnnx>): Promise<number> {
  return (await evaluateAccuracy(model, test, { batchSize: 500 })).accuracy;
}

describe('prune-channels + reconstruct on fashion-cnn', () => {
  it('recovers at least half of the accuracy lost at 25% and 50% of the channels', { timeout: 240_000 }, async () => {
    const base = readOnnx(MODEL);
    inferShapes(base, { mode: 'refresh' });
    const baseAccuracy = await accuracy(base);
    const rows: string[] = [`original: accuracy ${baseAccuracy.toFixed(3)}, parameters ${parameterCount(base)}, MACs ${multiplyAccumulates(base)}`];
    for (const ratio of [0.25, 0.5]) {
      const pruned = readOnnx(MODEL);
      const { statistics } = await runPrune(pruned, `prune-channels{ratio=${ratio}}`);
      expect(statistics['groups-pruned']).toBe(3);
      expect(onnxChecker(pruned)).toBe('');
      const prunedAccuracy = await accuracy(pruned);
      const fitted = readOnnx(MODEL);
      const run = await runPrune(fitted, `prune-channels{ratio=${ratio}},reconstruct{dataset=fashion-mnist:train samples=1024}`);
      expect(run.statistics['layers-reconstructed']).toBeGreaterThanOrEqual(2);
      expect(onnxChecker(fitted)).toBe('');
      const fittedAccuracy = await accuracy(fitted);
      rows.push(
        `ratio ${ratio}: parameters ${parameterCount(pruned)} (${(parameterCount(pruned) / parameterCount(base)).toFixed(3)}×), MACs ${(multiplyAccumulates(pruned) / multiplyAccumulates(base)).toFixed(3)}×, accuracy ${prunedAccuracy.toFixed(3)} pruned, ${fittedAccuracy.toFixed(3)} reconstructed`,
      );
      expect(parameterCount(pruned)).toBeLessThan(parameterCount(base) * (1 - ratio * 0.9));
      expect(multiplyAccumulates(pruned)).toBeLessThan(multiplyAccumulates(base) * (1 - ratio * 0.9));
      if (ratio === 0.5) expect(fittedAccuracy - prunedAccuracy).toBeGreaterThanOrEqual((baseAccuracy - prunedAccuracy) / 2);
    }
    console.log(rows.join('\n'));
  });
});
