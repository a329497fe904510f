/**
 * note12 item 6: a Reshape whose target the model computes from Shape(x) (Shape → Slice → Concat with 5) and which
 * cannot fit x [2,3,4] is written by a plain convert (nothing folds the computation), and `-p simplify` folds it to
 * a constant target, after which verify-each blamed the pass ("pass 'simplify' left the IR invalid"). The failure
 * now names the Reshape and says the model's own shape computation is at fault; a model whose computation fits is
 * simplified as before. Referee: ONNX Runtime refuses the same Reshape at these shapes.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GraphBuilder, Tensor, attrs, tensorType } from '@modelpass/ir';
import { encodeOnnx } from '@modelpass/onnx';
import { disposeSharedOrtRunner, runOrt } from '@modelpass/runtime';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from './run-cli.js';

const temp = mkdtempSync(join(tmpdir(), 'modelpass-shape-computation-'));
afterAll(async () => {
  rmSync(temp, { recursive: true, force: true });
  await disposeSharedOrtRunner();
});

/** y = Relu(Reshape(x [2,3,4], Concat(Shape(x)[0:1], [last]))): impossible for last=5, fine for last=12. */
function reshapeModel(last: number): { path: string; bytes: Uint8Array } {
  const b = new GraphBuilder();
  const x = b.input('x', tensorType('float32', [2, 3, 4]));
  const shape = b.op1('onnx.Shape', [x], {}, { name: 'shape_of_x' });
  const i64 = (values: number[], name: string) => b.constant(Tensor.fromValues('int64', [values.length], values.map(BigInt)), name);
  const batch = b.op1('onnx.Slice', [shape, i64([0], 'starts'), i64([1], 'ends')], {}, { name: 'batch' });
  const target = b.op1('onnx.Concat', [batch, i64([last], 'last')], { axis: attrs.int(0) }, { name: 'target' });
  b.output(b.op1('onnx.Relu', [b.op1('onnx.Reshape', [x, target], {}, { name: 'bad_reshape' })], {}, { outputs: ['y'] }));
  const bytes = encodeOnnx(b.model({ onnx: 13 }));
  const path = join(temp, `reshape-${last}.onnx`);
  writeFileSync(path, bytes);
  return { path, bytes };
}

describe('a Reshape made impossible by the model’s own shape computation', () => {
  it('ONNX Runtime refuses the model at its input shapes (the referee)', async () => {
    const x = Tensor.fromValues('float32', [2, 3, 4], Array.from({ length: 24 }, (_, i) => i));
    await expect(runOrt(reshapeModel(5).bytes, { x })).rejects.toThrow(/Reshape node\. Name:'bad_reshape'/);
  });

  it('-p simplify fails naming the Reshape and what computes its target, and does not blame the pass', async () => {
    const { path } = reshapeModel(5);
    const result = await runCli(['convert', path, '-p', 'simplify', '-o', join(temp, 'out-5.onnx')]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      "Reshape 'bad_reshape' cannot run on this model's input shapes: its target shape is computed by the model itself (Shape 'shape_of_x', Slice 'batch', Concat 'target'), and at these input shapes that computation gives an impossible target; pass 'simplify' only made that visible (it folded the computation to constants), the model is at fault, not the pass",
    );
    expect(result.stderr).toContain("cannot reshape 'x' [2,3,4] (24 elements) to [2,5]");
    expect(result.stderr).not.toContain('left the IR invalid');
  });

  it('a Reshape to a constant target that cannot fit keeps the input check\'s error: no pass folded anything (QA s18 round 17)', async () => {
    const b = new GraphBuilder();
    const x = b.input('x', tensorType('float32', [2, 3]));
    const target = b.constant(Tensor.fromValues('int64', [3], [1n, 6n, 5000000000n]), 'target');
    b.output(b.op1('onnx.Reshape', [x, target], {}, { name: 'const_reshape', outputs: ['y'] }));
    const path = join(temp, 'const-target.onnx');
    writeFileSync(path, encodeOnnx(b.model({ onnx: 13 })));
    for (const [output, extra] of [['const-target.tflite', []], ['const-target.onnx.out.onnx', ['-p', 'simplify']]] as const) {
      const result = await runCli(['convert', path, ...extra, '-o', join(temp, output)]);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain('the input model is invalid before any pass ran');
      expect(result.stderr).toContain("cannot reshape 'x' [2,3] (6 elements) to [1,6,5000000000]");
      expect(result.stderr).not.toContain('only made that visible');
    }
  });

  it('a target that fits is simplified as before', async () => {
    const { path } = reshapeModel(12);
    const result = await runCli(['convert', path, '-p', 'simplify', '-o', join(temp, 'out-12.onnx')]);
    expect(result.code, result.stderr).toBe(0);
  });
});
