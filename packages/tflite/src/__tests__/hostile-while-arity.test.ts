// QA s15 round 8: a .tflite whose WHILE body_subgraph_index pointed at the condition subgraph (2 values in,
// 1 out) was raised into an onnx.Loop the verifier then took apart ("raise-tflite left the IR invalid", a
// reproducer, as for a pass bug). raise-tflite now refuses it by node, saying which arity is wrong.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Graph, ModelpassError, Tensor, attrs, tensorType } from '@modelpass/ir';
import { createOpRegistry } from '@modelpass/ops';
import { raiseFromTflite, readTflite, writeTflite } from '@modelpass/tflite';
import { whileLoopModel } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'modelpass-tflite-while-arity-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A second copy of the helper's condition (i < 3 over (i, x)): 2 values in, one bool out. */
function conditionGraph(): Graph {
  const cond = new Graph('cond_as_body');
  const i = cond.addInput('i', tensorType('int32', [1]));
  cond.addInput('x', tensorType('float32', [1, 4]));
  const limit = cond.addConstant('limit', Tensor.fromValues('int32', [1], [3]));
  const less = cond.createNode({ op: 'tflite.LESS', inputs: [i, limit], outputs: [{ name: 'keep_going', type: tensorType('bool', [1]) }] });
  cond.setOutputs([less.output(0)]);
  return cond;
}

function raiseFile(path: string): unknown {
  try {
    raiseFromTflite(readTflite(path), createOpRegistry());
  } catch (error) {
    return error;
  }
  return undefined;
}

describe('WHILE arities', () => {
  it('refuses a body that is the condition (2 values in, 1 out) by node, before anything is raised', () => {
    const model = whileLoopModel();
    const loop = [...model.graph.nodes()][0]!;
    loop.setAttribute('body_subgraph', attrs.graph(conditionGraph()));
    const path = join(dir, 'body-is-cond.tflite');
    writeTflite(model, path);
    const error = raiseFile(path);
    expect(ModelpassError.is(error), String(error)).toBe(true);
    const reasons = (error as ModelpassError).diagnostics.map((d) => d.reason);
    expect(reasons).toContain('the WHILE body has 2 value(s) in and 1 out, but the loop carries 2');
    expect((error as ModelpassError).diagnostics.find((d) => d.reason.startsWith('the WHILE body'))!.location).toMatchObject({ op: 'tflite.WHILE' });
  });

  it('still raises the well-formed loop', () => {
    const path = join(dir, 'loop.tflite');
    writeTflite(whileLoopModel(), path);
    expect(raiseFile(path)).toBeUndefined();
  });
});
