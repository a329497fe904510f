/**
 * The check most one-input TFLite legalization cases make: the case's model legalized (`optimize=false`) holds
 * only tflite ops, among them the builtins the case names, and the TFLite runtime's outputs are within a
 * tolerance of ONNX Runtime's on the original, on seeded feeds.
 */
import { expect } from 'vitest';
import type { Model } from '@modelpass/ir';
import { compareInRuntimes, feedsFor, legalize, singleInputModel, type SingleInputCase } from './tflite-legalize-harness.js';

export interface LegalizedCaseCheck {
  /** Builtins the converted graph must contain (without the `tflite.` prefix). */
  readonly uses: readonly string[];
  /** feedsFor's seed and value range. */
  readonly seed: number;
  readonly range: [number, number];
  /** The largest absolute difference allowed per output. */
  readonly tolerance: number;
}

/** Runs the check and returns the converted model, for a case's own further expectations. */
export async function expectLegalizedAgrees(testCase: SingleInputCase, check: LegalizedCaseCheck): Promise<Model> {
  const original = singleInputModel(testCase);
  const converted = singleInputModel(testCase);
  await legalize(converted, 'optimize=false');
  const ops = converted.graph.nodeList().map((node) => node.op);
  expect(ops.filter((op) => !op.startsWith('tflite.'))).toEqual([]);
  for (const builtin of check.uses) expect(ops).toContain(`tflite.${builtin}`);
  const differences = await compareInRuntimes(original, converted, feedsFor(original, check.seed, check.range));
  for (const difference of differences) expect(difference).toBeLessThanOrEqual(check.tolerance);
  return converted;
}
