/**
 * Note14 (fuzz seed 1824, case 6031): `convert` gave verify-each the data the input computes, `replay` did not, so
 * replaying a reproducer whose input declares an output contradicting a Reshape target computed from Shape(x)
 * blamed simplify, which folds that computation, for what the input already had. verify-each now takes the known
 * values from the op registry (createOpRegistry's), wherever it runs.
 */
import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { attrs, GraphBuilder, printModel, Tensor, tensorType } from '@modelpass/ir';
import { spawnCli } from './run-cli.js';

const temp = realpathSync(mkdtempSync(join(tmpdir(), 'modelpass-replay-known-values-')));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

const i64 = (values: number[]) => Tensor.fromValues('int64', [values.length], values.map(BigInt));

/** y = Reshape(Flatten(x), Concat(Slice(Shape(x), 0, 1), Slice(Shape(x), 1, 4))) over x [5,4,3,2], y declared [2,3,4,5]. */
function staleReproducer(): string {
  const b = new GraphBuilder();
  const x = b.input('x', tensorType('float32', [5, 4, 3, 2]));
  const shape = b.op1('onnx.Shape', [x], {}, { name: 'shape_of_x' });
  const head = b.op1('onnx.Slice', [shape, b.constant(i64([0]), 's0'), b.constant(i64([1]), 'e0')], {}, { name: 'head' });
  const tail = b.op1('onnx.Slice', [shape, b.constant(i64([1]), 's1'), b.constant(i64([4]), 'e1')], {}, { name: 'tail' });
  const target = b.op1('onnx.Concat', [head, tail], { axis: attrs.int(0) }, { name: 'target' });
  const flat = b.op1('onnx.Flatten', [x], {}, { name: 'flat' });
  b.output(b.op1('onnx.Reshape', [flat, target], {}, { name: 'reshape', outputs: ['y'], types: [tensorType('float32', [2, 3, 4, 5])] }));
  const dir = join(temp, 'stale');
  mkdirSync(dir);
  writeFileSync(join(dir, 'input.mpir'), printModel(b.model({ onnx: 17 })));
  writeFileSync(join(dir, 'pipeline.txt'), 'simplify\n');
  return dir;
}

describe('replay with an input that already contradicts the data it computes', () => {
  it('does not blame simplify: the failure does not reproduce', () => {
    const run = spawnCli(['replay', staleReproducer()], temp);
    expect(run.stderr).not.toContain("pass 'simplify' left the IR invalid");
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain("the failure did not reproduce: 'simplify' ran to the end");
  });
});
