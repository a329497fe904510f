/**
 * A .tflite whose declared output shapes contradict its ops (TFLite 2.9 computes every output's shape
 * when it prepares the op, so it runs the file): raise-tflite takes the ops' own types for those
 * values. It used to copy the declaration and fail its own verification ("pass 'raise-tflite' left the
 * IR invalid", with a reproducer; QA s11). Referee: the TFLite runtime on the file.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Graph, Model, Tensor, tensorType, verifyModel } from '@modelpass/ir';
import { createOpRegistry } from '@modelpass/ops';
import { disposeSharedOrtRunner, runOrt, TfliteEngine } from '@modelpass/runtime';
import { encodeTflite, raiseFromTflite, readTflite, registerTfliteDialect } from '@modelpass/tflite';

const dir = mkdtempSync(join(tmpdir(), 'modelpass-raise-declared-'));
afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  await disposeSharedOrtRunner();
});

/** a [7,13] + w → h (declared [9,13]) · 2 → y (declared [1048576,13]). */
function misdeclared(): Model {
  const graph = new Graph('main');
  const a = graph.addInput('a', tensorType('float32', [7, 13]));
  const w = graph.addConstant('w', Tensor.fromValues('float32', [7, 13], Array.from({ length: 91 }, (_, i) => i / 8)));
  const two = graph.addConstant('two', Tensor.fromValues('float32', [1], [2]));
  const h = graph.createNode({ op: 'tflite.ADD', name: 'h', inputs: [a, w], outputs: [{ name: 'h', type: tensorType('float32', [9, 13]) }] }).output(0);
  const y = graph.createNode({ op: 'tflite.MUL', name: 'y', inputs: [h, two], outputs: [{ name: 'y', type: tensorType('float32', [1048576, 13]) }] }).output(0);
  graph.setOutputs([y]);
  const model = new Model(graph);
  model.opsetImports.set('tflite', 3);
  return model;
}

describe('raise-tflite: declared shapes the ops contradict', () => {
  it('take the inferred types, verify, and give ORT what the TFLite runtime computes', async () => {
    const file = encodeTflite(misdeclared());
    const a = Tensor.fromValues('float32', [7, 13], Array.from({ length: 91 }, (_, i) => Math.sin(i)));
    const expected = (await new TfliteEngine().run(file, { a })).get('y')!;
    expect(expected.shape).toEqual([7, 13]);
    const path = join(dir, 'misdeclared.tflite');
    writeFileSync(path, file);
    const model = readTflite(path);
    const registry = registerTfliteDialect(createOpRegistry());
    raiseFromTflite(model, registry, { opset: 13 });
    expect(verifyModel(model, { registry }).filter((d) => d.severity === 'error')).toEqual([]);
    expect(model.graph.outputs[0]!.type).toEqual(tensorType('float32', [7, 13]));
    const actual = (await runOrt(model, { a })).get('y')!;
    expect(actual.shape).toEqual([7, 13]);
    expect(actual.toNumbers()).toEqual(expected.toNumbers());
  }, 60_000);
});
