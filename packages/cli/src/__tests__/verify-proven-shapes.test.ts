/**
 * QA s11 R7: `convert` of an ADD whose input is declared [1048576,13] and whose other operand is a
 * [7,13] constant exited 0 and wrote an ONNX file ONNX Runtime refuses ("Incompatible dimensions"):
 * the verifier could not prove anything wrong. A proven contradiction is now an error naming the
 * node and the shapes, and nothing is written; a dim inference cannot decide stays accepted.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Graph, GraphBuilder, Model, Tensor, tensorType, type Dim } from '@modelpass/ir';
import { encodeOnnx } from '@modelpass/onnx';
import { encodeTflite } from '@modelpass/tflite';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from './run-cli.js';

const temp = mkdtempSync(join(tmpdir(), 'modelpass-verify-proven-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));
const weights = () => Tensor.fromValues('float32', [7, 13], Array.from({ length: 91 }, (_, i) => i));

function onnxAdd(inputShape: Dim[]): string {
  const g = new GraphBuilder();
  const a = g.input('a', tensorType('float32', inputShape));
  g.output(g.op1('onnx.Add', [a, g.constant(weights(), 'w')], {}, { name: 'y_add' }));
  const path = join(temp, `add-${inputShape.join('x')}.onnx`);
  writeFileSync(path, encodeOnnx(g.model({ onnx: 17 })));
  return path;
}

/** An ADD of input 'a' and a [7,13] constant; an input shape that cannot broadcast is patched into a valid file (the writer refuses it). */
function tfliteAdd(inputShape: [number, number]): string {
  if (inputShape[0] === 1) return writeTfliteAdd(inputShape);
  const bytes = readFileSync(writeTfliteAdd([1, inputShape[1]]));
  // 'a' is the only [1, 13] tensor: its shape vector (int32 length 2, then the dims), and shape_signature when written.
  const vector = Buffer.from(Int32Array.of(2, 1, inputShape[1]).buffer);
  let patched = 0;
  for (let at = bytes.indexOf(vector); at >= 0; at = bytes.indexOf(vector, at + 1), patched++) bytes.writeInt32LE(inputShape[0], at + 4);
  expect(patched).toBeGreaterThan(0);
  const path = join(temp, `add-${inputShape.join('x')}.tflite`);
  writeFileSync(path, bytes);
  return path;
}

function writeTfliteAdd(inputShape: number[]): string {
  const g = new Graph('main');
  const a = g.addInput('a', tensorType('float32', inputShape));
  const n = g.createNode({ op: 'tflite.ADD', name: 'add', inputs: [a, g.addConstant('w', weights())], outputs: [{ name: 'y', type: tensorType('float32', [7, 13]) }] });
  g.setOutputs([n.output(0)]);
  const model = new Model(g);
  model.opsetImports.set('tflite', 3);
  const path = join(temp, `add-${inputShape.join('x')}.tflite`);
  writeFileSync(path, encodeTflite(model));
  return path;
}

describe('convert refuses a model whose static shapes cannot work', () => {
  it('an ONNX Add of [1048576,13] and a [7,13] constant: exit 1 naming the node and shapes, nothing written', async () => {
    const input = onnxAdd([1048576, 13]);
    const output = join(temp, 'bad.onnx');
    const result = await runCli(['convert', input, '-o', output]);
    expect(result.code, result.stderr).toBe(1);
    expect(result.stderr).toContain("node 'y_add' (onnx.Add)");
    expect(result.stderr).toContain("input shapes cannot be broadcast: 'a' [1048576,13] and 'w' [7,13]");
    expect(result.stderr).toContain(input);
    expect(existsSync(output)).toBe(false);
  });

  it('the same ADD in a .tflite is refused by the reader, naming the operator and both operands', async () => {
    const input = tfliteAdd([1048576, 13]);
    const output = join(temp, 'bad-tflite.onnx');
    const result = await runCli(['convert', input, '-o', output]);
    expect(result.code, result.stderr).toBe(1);
    expect(result.stderr).toContain("ADD's operand shapes cannot broadcast: 'a' [1048576,13] (an input) and 'w' [7,13] (a constant)");
    expect(existsSync(output)).toBe(false);
  });

  it('shapes that broadcast, or a dim inference cannot decide, still convert', async () => {
    for (const input of [onnxAdd([1, 13]), onnxAdd(['N', 13]), tfliteAdd([1, 13])]) {
      const output = `${input}.out.onnx`;
      const result = await runCli(['convert', input, '-o', output]);
      expect(result.code, result.stderr).toBe(0);
      expect(existsSync(output)).toBe(true);
    }
  });
});
