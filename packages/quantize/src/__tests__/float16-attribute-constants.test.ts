/**
 * convert-float16 on constants carried by attributes (QA s10 R3, BlazeFace's tf2onnx channel
 * padding): a ConstantOfShape without `value` (ONNX's default float32 zero) and a Constant with
 * `value_float` / `value_floats` switch to float16 with their attribute, so verify-each passes,
 * ONNX's checker accepts the file and ONNX Runtime's outputs agree with float32's within float16
 * tolerance.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { attrs, GraphBuilder, Tensor, tensorType, type Model } from '@modelpass/ir';
import { writeOnnx } from '@modelpass/onnx';
import { disposeSharedOrtRunner, runOrt } from '@modelpass/runtime';
import { onnxChecker, randomTensor, runPipeline } from './weights-helpers.js';

const work = mkdtempSync(join(tmpdir(), 'modelpass-float16-attributes-'));
afterAll(async () => {
  rmSync(work, { recursive: true, force: true });
  await disposeSharedOrtRunner();
});

/** x [1,2,6,6] → Concat(x, ConstantOfShape([1,2,6,6]) without value) → Conv 4→3 → ·value_float + value_floats. */
function paddedConvModel(): Model {
  const b = new GraphBuilder();
  const x = b.input('x', tensorType('float32', [1, 2, 6, 6]));
  const shape = b.constant(Tensor.fromValues('int64', [4], [1, 2, 6, 6]), 'pad_shape');
  const zeros = b.op1('onnx.ConstantOfShape', [shape], {}, { name: 'pad', outputs: ['zeros'] });
  const padded = b.op1('onnx.Concat', [x, zeros], { axis: attrs.int(1) }, { name: 'concat', outputs: ['padded'] });
  const weight = b.constant(randomTensor([3, 4, 3, 3], 7), 'w');
  const conv = b.op1('onnx.Conv', [padded, weight], { pads: attrs.ints([1, 1, 1, 1]) }, { name: 'conv', outputs: ['conv'] });
  const factor = b.op1('onnx.Constant', [], { value_float: attrs.float(0.5) }, { name: 'factor', outputs: ['factor'] });
  const offsets = b.op1('onnx.Constant', [], { value_floats: attrs.floats([0.25, -0.5, 1, 2, -1, 0.125]) }, { name: 'offsets', outputs: ['offsets'] });
  const scaled = b.op1('onnx.Mul', [conv, factor], {}, { name: 'scale', outputs: ['scaled'] });
  const y = b.op1('onnx.Add', [scaled, offsets], {}, { name: 'offset', outputs: ['y'] });
  b.output(y);
  return b.model({ onnx: 13 });
}

describe('convert-float16: constants carried by attributes', () => {
  it('ConstantOfShape without value and Constant value_float(s) become float16; ORT agrees with float32', async () => {
    const input = randomTensor([1, 2, 6, 6], 11, 2);
    const reference = (await runOrt(paddedConvModel(), { x: input })).get('y')!;

    const model = paddedConvModel();
    const run = await runPipeline(model, 'convert-float16');
    const pad = [...model.graph.nodesOf('onnx.ConstantOfShape')][0]!;
    const value = pad.getAttribute('value');
    expect(value?.kind === 'tensor' && value.value.dtype).toBe('float16');
    expect(value?.kind === 'tensor' && value.value.toNumbers()).toEqual([0]);
    expect(pad.outputs[0]!.type).toMatchObject({ dtype: 'float16' });
    for (const constant of model.graph.nodesOf('onnx.Constant')) {
      expect(constant.getAttribute('value_float')).toBeUndefined();
      expect(constant.getAttribute('value_floats')).toBeUndefined();
      const tensor = constant.getAttribute('value');
      expect(tensor?.kind === 'tensor' && tensor.value.dtype).toBe('float16');
    }
    expect(run.statistics.get('nodes-converted')).toBeGreaterThanOrEqual(6);

    const out = join(work, 'padded-fp16.onnx');
    writeOnnx(model, out);
    onnxChecker(out);
    const half = (await runOrt(out, { x: input })).get('y')!;
    expect(half.dtype).toBe('float32'); // keep-io
    expect(half.shape).toEqual(reference.shape);
    const ref = reference.toNumbers();
    const got = half.toNumbers();
    let worst = 0;
    for (let i = 0; i < ref.length; i++) worst = Math.max(worst, Math.abs(ref[i]! - got[i]!) / (1 + Math.abs(ref[i]!)));
    expect(worst).toBeLessThan(1e-2);
  }, 60_000);
});
