/**
 * Resize whose sizes are computed at run time, as torch exports segmentation heads (lraspp, deeplabv3,
 * fcn: sizes = Concat(Shape(x)[:2], Cast(Concat(H, W)))), written as TorchScript once inference has
 * proved the output's spatial dims (QA s12: refused 'computed scales or sizes'). Referees: ONNX
 * Runtime on the model, Debian torch on the archive; the archive also reads back into modelpass.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { attrs, GraphBuilder, Tensor, tensorType, type Model, type Value } from '@modelpass/ir';
import { readNpy, runOrt, writeNpy } from '@modelpass/runtime';
import { readTorchScript, writeTorchScript } from '@modelpass/torchscript';
import { inferShapes } from '@modelpass/ops';
import { runPython } from './torch/torch-fixtures.js';

const here = dirname(fileURLToPath(import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'modelpass-resize-computed-sizes-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function seeded(shape: number[], seed: number, lo = -0.5, hi = 0.5): Tensor {
  let state = seed;
  const count = shape.reduce((a, b) => a * b, 1);
  return Tensor.fromValues('float32', shape, Array.from({ length: count }, () => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return lo + (hi - lo) * (state / 2 ** 32);
  }));
}
const i64 = (values: number[]) => Tensor.fromValues('int64', [values.length], values.map((v) => BigInt(v)));

interface Case {
  readonly name: string;
  readonly input: number[];
  readonly build: (b: GraphBuilder, x: Value) => Value;
}

/** Resize of x to [N, C, outH, outW] with sizes computed from Shape(x), as torch.onnx writes F.interpolate(size=…). */
function computedSizes(outH: number, outW: number, attributes: Record<string, ReturnType<typeof attrs.string>>): Case['build'] {
  return (b, x) => {
    const leading = b.op1('onnx.Slice', [b.op1('onnx.Shape', [x]), b.constant(i64([0]), 'starts'), b.constant(i64([2]), 'ends'), b.constant(i64([0]), 'axes')]);
    const spatial = b.op1('onnx.Cast', [b.op1('onnx.Concat', [b.constant(i64([outH]), 'h'), b.constant(i64([outW]), 'w')], { axis: attrs.int(0) })], { to: attrs.int(7) });
    return b.op1('onnx.Resize', [x, null, null, b.op1('onnx.Concat', [leading, spatial], { axis: attrs.int(0) })], attributes);
  };
}

const CASES: Case[] = [
  { name: 'linear half_pixel 3x4 to 7x9', input: [2, 3, 3, 4], build: computedSizes(7, 9, { mode: attrs.string('linear') }) },
  { name: 'linear align_corners 5x5 to 12x10', input: [1, 2, 5, 5], build: computedSizes(12, 10, { mode: attrs.string('linear'), coordinate_transformation_mode: attrs.string('align_corners') }) },
  { name: 'nearest asymmetric floor 4x4 to 8x8', input: [1, 2, 4, 4], build: computedSizes(8, 8, { mode: attrs.string('nearest'), coordinate_transformation_mode: attrs.string('asymmetric'), nearest_mode: attrs.string('floor') }) },
];

const modelOf = (c: Case): Model => {
  const b = new GraphBuilder();
  const x = b.input('x', tensorType('float32', c.input));
  b.output(c.build(b, x));
  const model = b.model({ onnx: 13 });
  inferShapes(model);
  return model;
};
const fileName = (c: Case): string => c.name.replace(/[^A-Za-z0-9]+/g, '_').slice(0, 60);
const inputOf = (c: Case): Tensor => seeded(c.input, 7, -2, 3);

beforeAll(() => {
  const manifest = CASES.map((c) => {
    const name = fileName(c);
    writeTorchScript(modelOf(c), join(dir, `${name}.pt`));
    writeNpy(inputOf(c), join(dir, `${name}.input.npy`));
    return { archive: join(dir, `${name}.pt`), runs: [{ inputs: [join(dir, `${name}.input.npy`)], out: join(dir, name) }] };
  });
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest));
  runPython(join(here, 'torch/run-many.py'), [join(dir, 'manifest.json')], 300_000);
}, 300_000);

function maxAbs(a: Tensor, e: Tensor): number {
  expect(a.shape).toEqual(e.shape);
  const x = a.toNumbers();
  const y = e.toNumbers();
  return Math.max(0, ...x.map((v, i) => Math.abs(v - y[i]!)));
}

describe.each(CASES)('$name', (c) => {
  it('runs in torch within 1e-5 of ONNX Runtime, and reads back into modelpass with the same numbers', async () => {
    const model = modelOf(c);
    const feeds = { x: inputOf(c) };
    const expected = [...(await runOrt(model, feeds)).values()][0]!;
    expect(maxAbs(readNpy(join(dir, `${fileName(c)}.0.npy`)), expected)).toBeLessThan(1e-5);
    const imported = readTorchScript(join(dir, `${fileName(c)}.pt`), { inputs: { x: { shape: c.input } } });
    expect(maxAbs([...(await runOrt(imported, feeds)).values()][0]!, expected)).toBeLessThan(1e-5);
  }, 60_000);
});
