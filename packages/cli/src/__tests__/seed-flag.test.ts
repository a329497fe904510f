/**
 * QA s16: `compare --seed 99999999999999999999999` ran with exit 0 as seed 1e+23 — the same random inputs as
 * ...998 (a number holds integers exactly only up to 2^53 - 1). Such seeds are refused (usage error, exit 2).
 */
import { describe, expect, it } from 'vitest';
import { runCli } from './run-cli.js';

const model = 'fixtures/models/fashion-cnn/model.onnx';

describe('--seed past 2^53 - 1', () => {
  it('is refused by compare and diff; the largest exact seed runs', async () => {
    for (const command of ['compare', 'diff']) {
      const run = await runCli([command, model, model, '--seed', '99999999999999999999999']);
      expect(run.code, run.stderr).toBe(2);
      expect(run.stderr).toContain("--seed takes a non-negative integer up to 9007199254740991 (2^53 - 1), got '99999999999999999999999'");
    }
    const largest = await runCli(['compare', model, model, '--seed', '9007199254740991']);
    expect(largest.code, largest.stderr).toBe(0);
  });
});
