/**
 * reconstruct watches the pipeline's signal (Ctrl-C in `modelpass convert`): aborted while it runs, it
 * stops before its next ONNX Runtime batch instead of refitting every layer first.
 */
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import type { ModelpassError } from '@modelpass/ir';
import { readOnnx } from '@modelpass/onnx';
import { createOpRegistry } from '@modelpass/ops';
import { PassEnvironment, PassManager, StatisticsInstrumentation } from '@modelpass/pass-manager';
import { prunePasses } from '@modelpass/prune';
import { disposeSharedOrtRunner } from '@modelpass/runtime';

afterAll(() => disposeSharedOrtRunner());

const cnnPath = fileURLToPath(new URL('../../../../fixtures/models/fashion-cnn/model.onnx', import.meta.url));

describe('reconstruct and the pipeline signal', () => {
  it('stops at the next batch when the signal is aborted while it runs', async () => {
    const environment = new PassEnvironment({ ops: createOpRegistry() });
    environment.passes.register(prunePasses, '@modelpass/prune');
    const controller = new AbortController();
    const statistics = new StatisticsInstrumentation();
    const manager = new PassManager({
      environment,
      signal: controller.signal,
      instrumentations: [statistics],
      // reconstruct warns that it uses random calibration inputs just before its first layer: press ^C then.
      onDiagnostic: (d) => {
        if (d.reason.includes('no calibration dataset given')) controller.abort(new Error('user pressed ^C'));
      },
    });
    const error = await manager.run(await readOnnx(cnnPath), 'prune-channels{ratio=0.5},reconstruct{samples=64}').then(
      () => undefined,
      (e: unknown) => e as ModelpassError,
    );
    expect(error?.message).toContain("reconstruct interrupted while refitting layer '/conv2/Conv'");
    const totals = statistics.toJSON() as Record<string, Record<string, number>>;
    expect(totals['reconstruct']?.['layers-reconstructed'] ?? 0).toBe(0);
  });
});
