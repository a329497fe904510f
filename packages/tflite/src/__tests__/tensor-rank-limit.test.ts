import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Graph, Model, ModelpassError, tensorType } from '@modelpass/ir';
import { readTflite, writeTflite } from '@modelpass/tflite';

const dir = mkdtempSync(join(tmpdir(), 'modelpass-tflite-rank-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** An input of `rank` ones passed through one RELU. */
function reluOfRank(rank: number): Model {
  const g = new Graph('main');
  const x = g.addInput('x', tensorType('float32', Array.from({ length: rank }, () => 1)));
  const relu = g.createNode({ op: 'tflite.RELU', name: 'relu', inputs: [x], outputs: [{ name: 'y', type: tensorType('float32', Array.from({ length: rank }, () => 1)) }] });
  g.setOutputs([relu.output(0)]);
  const model = new Model(g);
  model.opsetImports.set('tflite', 3);
  return model;
}

describe('tensor rank: writeTflite writes only what readTflite reads (QA s20 H)', () => {
  it('refuses a tensor of more than 64 dims, naming it, and leaves no file', () => {
    const path = join(dir, 'rank-65.tflite');
    let error: unknown;
    try {
      writeTflite(reluOfRank(65), path);
    } catch (caught) {
      error = caught;
    }
    expect(ModelpassError.is(error), String(error)).toBe(true);
    expect((error as ModelpassError).diagnostics[0]!.code).toBe('tflite/not-exportable');
    expect((error as ModelpassError).message).toContain("input/output 'x' has rank 65; a .tflite tensor has at most 64 dims here (readTflite refuses more)");
    expect(readdirSync(dir)).not.toContain('rank-65.tflite');
  });

  it('writes and reads back a tensor of 64 dims', () => {
    const path = join(dir, 'rank-64.tflite');
    writeTflite(reluOfRank(64), path);
    expect(readTflite(path).graph.inputs[0]!.type).toEqual(tensorType('float32', Array.from({ length: 64 }, () => 1)));
  });
});
