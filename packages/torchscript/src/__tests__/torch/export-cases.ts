/**
 * The harness of the writer's op tests: one float32 input `x` per case, a graph built on it, written as a
 * TorchScript archive. All archives run in one Debian torch process (`run-many.py`); each case then checks that
 * torch's first output is within the tolerance of ONNX Runtime's on the model, and that the archive reads back
 * into modelpass with ORT giving the same numbers.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GraphBuilder, Tensor, tensorType, type Model, type Value } from '@modelpass/ir';
import { inferShapes } from '@modelpass/ops';
import { readNpy, runOrt, writeNpy } from '@modelpass/runtime';
import { readTorchScript, writeTorchScript } from '@modelpass/torchscript';
import { runPython } from './torch-fixtures.js';

const here = dirname(fileURLToPath(import.meta.url));

/** Seeded float32 values in [lo, hi) (a linear congruential generator: the same tensor on every run). */
export function seeded(shape: number[], seed: number, lo = -0.5, hi = 0.5): Tensor {
  let state = seed;
  const count = shape.reduce((a, b) => a * b, 1);
  return Tensor.fromValues('float32', shape, Array.from({ length: count }, () => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return lo + (hi - lo) * (state / 2 ** 32);
  }));
}

/** A 1-D int64 constant. */
export const i64 = (values: number[]): Tensor => Tensor.fromValues('int64', [values.length], values.map((v) => BigInt(v)));

export interface ExportCase {
  readonly name: string;
  /** The shape of the float32 input `x`. */
  readonly input: number[];
  /** The model's ONNX opset when not the suite's. */
  readonly opset?: number;
  readonly build: (b: GraphBuilder, x: Value) => Value;
}

export interface ExportSuite {
  /** The temporary folder's prefix. */
  readonly name: string;
  readonly opset: number;
  /** Run shape inference on the model before writing it (writers that need proven output shapes). */
  readonly inferShapes?: boolean;
  /** torch's allowed max abs error against ORT for an expected output (default 1e-5). */
  readonly torchTolerance?: (expected: Tensor) => number;
  /** Whether the archive must also read back into modelpass (default true; false where the written code is loops the reader does not import). */
  readonly readBack?: boolean;
}

function maxAbs(actual: Tensor, expected: Tensor): number {
  expect(actual.shape).toEqual(expected.shape);
  const x = actual.toNumbers();
  const y = expected.toNumbers();
  return Math.max(0, ...x.map((v, i) => Math.abs(v - y[i]!)));
}

/** Declares the suite's beforeAll (write every archive, run torch once), afterAll (remove the folder) and one test per case. */
export function describeExportCases(suite: ExportSuite, cases: readonly ExportCase[]): void {
  const dir = mkdtempSync(join(tmpdir(), `modelpass-${suite.name}-`));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const modelOf = (c: ExportCase): Model => {
    const b = new GraphBuilder();
    const x = b.input('x', tensorType('float32', c.input));
    b.output(c.build(b, x));
    const model = b.model({ onnx: c.opset ?? suite.opset });
    if (suite.inferShapes) inferShapes(model);
    return model;
  };
  const fileName = (c: ExportCase): string => `${cases.indexOf(c)}_${c.name.replace(/[^A-Za-z0-9]+/g, '_').slice(0, 60)}`;
  const inputOf = (c: ExportCase): Tensor => seeded(c.input, 7, -2, 3);

  beforeAll(() => {
    const manifest = cases.map((c) => {
      const name = fileName(c);
      writeTorchScript(modelOf(c), join(dir, `${name}.pt`));
      writeNpy(inputOf(c), join(dir, `${name}.input.npy`));
      return { archive: join(dir, `${name}.pt`), runs: [{ inputs: [join(dir, `${name}.input.npy`)], out: join(dir, name) }] };
    });
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest));
    runPython(join(here, 'run-many.py'), [join(dir, 'manifest.json')], 300_000);
  }, 300_000);

  describe.each(cases)('$name', (c) => {
    it('runs in torch within tolerance of ONNX Runtime, and reads back into modelpass with the same numbers', async () => {
      const model = modelOf(c);
      const feeds = { x: inputOf(c) };
      const expected = [...(await runOrt(model, feeds)).values()][0]!;
      expect(maxAbs(readNpy(join(dir, `${fileName(c)}.0.npy`)), expected)).toBeLessThan(suite.torchTolerance?.(expected) ?? 1e-5);
      if (suite.readBack === false) return;
      const imported = readTorchScript(join(dir, `${fileName(c)}.pt`), { inputs: { x: { shape: c.input } } });
      expect(maxAbs([...(await runOrt(imported, feeds)).values()][0]!, expected)).toBeLessThan(1e-5);
    }, 60_000);
  });
}
