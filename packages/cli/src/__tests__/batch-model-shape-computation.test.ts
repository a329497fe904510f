/**
 * batch reports failures as convert does (370ef49, f4bf258; note s18): a Reshape whose target the model computes
 * from Shape(x) and which cannot fit x is the model's fault, named with what computes the target — batch said
 * "pass 'simplify' left the IR invalid". And, as convert's input check (fuzz 1824 case 6031), a declared output that
 * contradicts such a computed target is the input's stale declaration: the model converts.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { attrs, GraphBuilder, Tensor, tensorType, type Value } from '@modelpass/ir';
import { encodeOnnx } from '@modelpass/onnx';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from './run-cli.js';

const temp = mkdtempSync(join(tmpdir(), 'modelpass-batch-shape-computation-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

const i64 = (b: GraphBuilder, values: number[], name: string): Value => b.constant(Tensor.fromValues('int64', [values.length], values.map(BigInt)), name);

/** y = Relu(Reshape(x [2,3,4], Concat(Shape(x)[0:1], [5]))): impossible at these shapes. */
function impossibleReshape(): Uint8Array {
  const b = new GraphBuilder();
  const x = b.input('x', tensorType('float32', [2, 3, 4]));
  const shape = b.op1('onnx.Shape', [x], {}, { name: 'shape_of_x' });
  const batch = b.op1('onnx.Slice', [shape, i64(b, [0], 'starts'), i64(b, [1], 'ends')], {}, { name: 'batch' });
  const target = b.op1('onnx.Concat', [batch, i64(b, [5], 'last')], { axis: attrs.int(0) }, { name: 'target' });
  b.output(b.op1('onnx.Relu', [b.op1('onnx.Reshape', [x, target], {}, { name: 'bad_reshape' })], {}, { outputs: ['y'] }));
  return encodeOnnx(b.model({ onnx: 13 }));
}

/** y = Reshape(Flatten(x [5,4,3,2]), Shape(x)) declared [2,3,4,5]: ONNX Runtime runs it (y is [5,4,3,2]). */
function staleDeclaration(): Uint8Array {
  const b = new GraphBuilder();
  const x = b.input('x', tensorType('float32', [5, 4, 3, 2]));
  const shape = b.op1('onnx.Shape', [x], {}, { name: 'shape_of_x' });
  const flat = b.op1('onnx.Flatten', [x], {}, { name: 'flat' });
  b.output(b.op1('onnx.Reshape', [flat, shape], {}, { name: 'reshape', outputs: ['y'], types: [tensorType('float32', [2, 3, 4, 5])] }));
  return encodeOnnx(b.model({ onnx: 17 }));
}

describe('batch and a model whose own shape computation is at fault', () => {
  it('names the Reshape and what computes its target, not the pass; converts the model with a stale declared output', async () => {
    const input = join(temp, 'in');
    const output = join(temp, 'out');
    mkdirSync(input);
    mkdirSync(output);
    writeFileSync(join(input, 'bad.onnx'), impossibleReshape());
    writeFileSync(join(input, 'stale.onnx'), staleDeclaration());
    const result = await runCli(['batch', '--pipeline', 'simplify', input, '-o', output, '--json'], temp);
    expect(result.code).toBe(1);
    const outcomes = (JSON.parse(result.stdout) as { outcomes: { input: string; ok: boolean; error?: string }[] }).outcomes;
    const bad = outcomes.find((o) => o.input.endsWith('bad.onnx'))!;
    expect(bad.ok).toBe(false);
    expect(bad.error).toContain(
      "Reshape 'bad_reshape' cannot run on this model's input shapes: its target shape is computed by the model itself (Shape 'shape_of_x', Slice 'batch', Concat 'target'), and at these input shapes that computation gives an impossible target; pass 'simplify' only made that visible",
    );
    expect(bad.error).not.toContain('left the IR invalid');
    expect(outcomes.find((o) => o.input.endsWith('stale.onnx'))).toMatchObject({ ok: true });
  }, 120_000);
});
