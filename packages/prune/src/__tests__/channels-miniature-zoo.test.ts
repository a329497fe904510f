/**
 * prune-channels{ratio=0.5} on miniature torchvision-family nets built in code (see
 * channels-miniature-zoo.ts; the real exports need Debian's torch, which this machine lacks): every
 * result passes verify-each and ONNX's checker, runs in ONNX Runtime with the original's output
 * shape, and parameters and multiply-accumulates fall; ShuffleNet's shuffled groups are refused
 * with the reason. Figures are printed (parameters, MACs).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { Tensor } from '@modelpass/ir';
import { inferShapes } from '@modelpass/ops';
import { decodeOnnx, encodeOnnx } from '@modelpass/onnx';
import { disposeSharedOrtRunner, runOrt } from '@modelpass/runtime';
import { multiplyAccumulates, onnxChecker, parameterCount, runPrune } from './channels-harness.js';
import { Random } from './channels-random-graphs.js';
import { MINIATURE_ZOO } from './channels-miniature-zoo.js';

afterAll(() => disposeSharedOrtRunner());

/** MAC ratio at ratio 0.5 each net must reach (ShuffleNet keeps its shuffled trunk whole). */
const MAC_LIMIT: Record<string, number> = { resnet: 0.3, mobilenet_v2: 0.35, mobilenet_v3: 0.35, shufflenet_v2: 0.6, regnet_y: 0.3 };

describe('prune-channels on miniature torchvision-family nets', () => {
  const rows: string[] = [];
  afterAll(() => console.log(['| net | parameters | MACs | groups pruned / all |', ...rows].join('\n')));
  for (const { name, build } of MINIATURE_ZOO) {
    it(name, { timeout: 60_000 }, async () => {
      const model = build(new Random(42));
      inferShapes(model, { mode: 'refresh' });
      const original = decodeOnnx(encodeOnnx(model));
      inferShapes(original, { mode: 'refresh' });
      const { statistics, result } = await runPrune(model, 'prune-channels{ratio=0.5}');
      expect(onnxChecker(model)).toBe('');
      const random = new Random(1);
      const feeds = { image: Tensor.fromValues('float32', [1, 3, 32, 32], Array.from({ length: 3072 }, () => random.next() * 2 - 1)) };
      const before = await runOrt(original, feeds);
      const after = await runOrt(model, feeds);
      expect(after.get('logits')!.shape).toEqual(before.get('logits')!.shape);
      const params = parameterCount(model) / parameterCount(original);
      const macs = multiplyAccumulates(model) / multiplyAccumulates(original);
      rows.push(`| ${name} | ${params.toFixed(3)} | ${macs.toFixed(3)} | ${statistics['groups-pruned']} / ${statistics['groups']} |`);
      expect(macs).toBeLessThanOrEqual(MAC_LIMIT[name]!);
      if (name === 'shufflenet_v2') expect(result.diagnostics.some((d) => d.reason.includes('channel shuffles are not pruned'))).toBe(true);
    });
  }
});
