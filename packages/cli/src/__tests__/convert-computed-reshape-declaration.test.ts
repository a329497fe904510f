/**
 * Fuzz seed 1824 case 6031: y = Reshape(Flatten(x), Concat(Slice(Shape(x)), …)) with x [5,4,3,2] and y declared
 * [2,3,4,5]. ONNX Runtime runs the file (it merges the declared shape leniently, y comes out [5,4,3,2]); convert
 * wrote it as it was without a pipeline, but `-p simplify` folded the target to a constant and verify-each blamed
 * the pass ("pass 'simplify' left the IR invalid"). The input check now sees the computed target: a warning on
 * the model as read, and the pipeline runs.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { attrs, GraphBuilder, Tensor, tensorType } from '@modelpass/ir';
import { encodeOnnx } from '@modelpass/onnx';
import { disposeSharedOrtRunner, runOrt } from '@modelpass/runtime';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from './run-cli.js';

const temp = mkdtempSync(join(tmpdir(), 'modelpass-computed-reshape-'));
afterAll(async () => {
  rmSync(temp, { recursive: true, force: true });
  await disposeSharedOrtRunner();
});

const i64 = (values: number[]) => Tensor.fromValues('int64', [values.length], values.map(BigInt));

function staleDeclarationModel(): { path: string; bytes: Uint8Array } {
  const b = new GraphBuilder();
  const x = b.input('x', tensorType('float32', [5, 4, 3, 2]));
  const shape = b.op1('onnx.Shape', [x], {}, { name: 'shape_of_x' });
  const head = b.op1('onnx.Slice', [shape, b.constant(i64([0]), 's0'), b.constant(i64([1]), 'e0')], {}, { name: 'head' });
  const tail = b.op1('onnx.Slice', [shape, b.constant(i64([1]), 's1'), b.constant(i64([4]), 'e1')], {}, { name: 'tail' });
  const target = b.op1('onnx.Concat', [head, tail], { axis: attrs.int(0) }, { name: 'target' });
  const flat = b.op1('onnx.Flatten', [x], {}, { name: 'flat' });
  b.output(b.op1('onnx.Reshape', [flat, target], {}, { name: 'reshape', outputs: ['y'], types: [tensorType('float32', [2, 3, 4, 5])] }));
  const bytes = encodeOnnx(b.model({ onnx: 17 }));
  const path = join(temp, 'stale-declaration.onnx');
  writeFileSync(path, bytes);
  return { path, bytes };
}

describe('a declared output contradicting a Reshape target the model computes from Shape(x)', () => {
  it('ONNX Runtime runs the model and gives the computed shape (the referee)', async () => {
    const x = Tensor.fromValues('float32', [5, 4, 3, 2], Array.from({ length: 120 }, (_, i) => i));
    const outputs = await runOrt(staleDeclarationModel().bytes, { x });
    expect(outputs.get('y')!.shape).toEqual([5, 4, 3, 2]);
  });

  it('convert -p simplify (and behind another pass) warns of the declaration on the input and blames no pass', async () => {
    const { path } = staleDeclarationModel();
    for (const pipeline of ['simplify', 'canonicalize,simplify']) {
      const result = await runCli(['convert', path, '-p', pipeline, '-o', join(temp, 'out.onnx')]);
      expect(result.stderr).not.toContain('left the IR invalid');
      expect(result.code).toBe(0);
      expect(result.stderr).toMatch(/warning: .*node 'reshape' \(onnx.Reshape\).*output #0 'y' is declared float32\[2,3,4,5\] but onnx.Reshape gives float32\[5,4,3,2\]/);
    }
  });
});
