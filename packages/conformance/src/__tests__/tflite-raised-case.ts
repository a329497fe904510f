/**
 * The check every raise-tflite case makes: a tflite-dialect model run by the TFLite runtime, then raised to
 * ONNX (no tflite op left) and run by ONNX Runtime on the same feeds, gives the same outputs — same names,
 * dtypes and shapes, values equal or (for outputs `tolerance` names) within its bound × max(1, max |value|).
 */
import { expect } from 'vitest';
import type { Model, Tensor } from '@modelpass/ir';
import { createOpRegistry } from '@modelpass/ops';
import { runOrt, TfliteEngine } from '@modelpass/runtime';
import { raiseFromTflite, registerTfliteDialect } from '@modelpass/tflite';

export interface RaisedCaseOptions {
  /** Per output name, the relative bound of its largest difference; outputs not named must be equal. */
  readonly tolerance?: (name: string) => number;
  readonly opset?: number;
}

/** Runs the check on `tflite` (raised in place) and returns ORT's outputs, for a case's own hand checks. */
export async function expectRaisedAgrees(tflite: Model, feeds: Record<string, Tensor>, options: RaisedCaseOptions = {}): Promise<Map<string, Tensor>> {
  const onTflite = await new TfliteEngine().run(tflite, feeds);
  raiseFromTflite(tflite, registerTfliteDialect(createOpRegistry()), { opset: options.opset ?? 13 });
  expect(tflite.graph.nodeList().map((n) => n.op).filter((op) => op.startsWith('tflite.'))).toEqual([]);
  const onOrt = await runOrt(tflite, feeds);
  expect([...onOrt.keys()].sort()).toEqual([...onTflite.keys()].sort());
  for (const [name, expected] of onTflite) {
    const actual = onOrt.get(name)!;
    expect(actual.dtype, name).toBe(expected.dtype);
    expect(actual.shape, name).toEqual(expected.shape);
    const [got, want] = [actual.toNumbers(), expected.toNumbers()];
    const bound = options.tolerance?.(name) ?? 0;
    if (bound === 0) expect(got, name).toEqual(want);
    else expect(Math.max(0, ...want.map((v, i) => Math.abs(v - got[i]!))), name).toBeLessThanOrEqual(bound * Math.max(1, ...want.map(Math.abs)));
  }
  return onOrt;
}
