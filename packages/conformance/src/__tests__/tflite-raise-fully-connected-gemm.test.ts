/**
 * raise-tflite: a float FULLY_CONNECTED of a 2-D input becomes Gemm(transB=1) reading TFLite's [units, depth] weights as
 * they are, so a weight left in the .tflite (lazy) is not transposed (issue 12 audit s14: a 1.1 GiB FULLY_CONNECTED took
 * 376 s and 2.4 GB to go back to ONNX, almost all of it in the weight transpose; ONNX → TFLite of the same model 7.6 s).
 * keep_num_dims with a rank-3 input stays a MatMul by the transposed weights. Judged against the TFLite 2.9 runtime.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { attrs, Graph, Model, Tensor, tensorType, type Value } from '@modelpass/ir';
import { createOpRegistry } from '@modelpass/ops';
import { disposeSharedOrtRunner, runOrt, TfliteEngine } from '@modelpass/runtime';
import { raiseFromTflite, readTflite, registerTfliteDialect, writeTflite } from '@modelpass/tflite';
import { addTfliteNode as add, sineRamp as ramp } from './tflite-graph-building.js';

const dir = mkdtempSync(join(tmpdir(), 'raise-fc-'));
afterAll(() => {
  disposeSharedOrtRunner();
  rmSync(dir, { recursive: true, force: true });
});

const UNITS = 70;
const DEPTH = 300; // 70 × 300 float32 = 84 KB: above the reader's 64 KiB, so the weights stay in the file

function model(): Model {
  const graph = new Graph('main');
  const x2 = graph.addInput('x2', tensorType('float32', [2, DEPTH]));
  const x3 = graph.addInput('x3', tensorType('float32', [2, 3, DEPTH]));
  const w = graph.addConstant('w', ramp([UNITS, DEPTH], 0.2, 0.5));
  const b = graph.addConstant('b', ramp([UNITS], 0.3, 2));
  const outputs: Value[] = [];
  const fc = (name: string, inputs: (Value | null)[], shape: number[], fused: string, keep = 0) =>
    outputs.push(...add(graph, 'FULLY_CONNECTED', inputs, [[name, tensorType('float32', shape)]], { fused_activation_function: attrs.string(fused), keep_num_dims: attrs.int(keep) }));
  fc('plain_relu', [x2, w, b], [2, UNITS], 'RELU');
  fc('no_bias', [x2, w, null], [2, UNITS], 'NONE');
  fc('flattened', [x3, w, b], [6, UNITS], 'RELU6');
  fc('kept_dims', [x3, w, b], [2, 3, UNITS], 'NONE', 1);
  graph.setOutputs(outputs);
  const result = new Model(graph);
  result.opsetImports.set('tflite', 3);
  return result;
}

describe('raise-tflite: FULLY_CONNECTED', () => {
  it('a 2-D float product is Gemm(transB) on the untransposed lazy weights; ORT equals the TFLite runtime', async () => {
    const path = join(dir, 'fc.tflite');
    writeTflite(model(), path);
    const tflite = readTflite(path);
    const weights = tflite.graph.getValue('w')!.constant!;
    expect(weights.storage!.kind).toBe('file-range');
    const feeds = { x2: ramp([2, DEPTH], 1.5, 0.1), x3: ramp([2, 3, DEPTH], 1.2, 0.7) };
    const onTflite = await new TfliteEngine().run(path, feeds);
    raiseFromTflite(tflite, registerTfliteDialect(createOpRegistry()), { opset: 13 });
    const gemms = tflite.graph.nodeList().filter((n) => n.op === 'onnx.Gemm');
    expect(gemms).toHaveLength(3);
    for (const gemm of gemms) {
      expect(gemm.attr('transB', 'int')).toBe(1);
      // The very tensor read from the file: same shape, same lazy storage, no transposed copy or view.
      expect(gemm.inputs[1]!.constant).toBe(weights);
    }
    expect(tflite.graph.nodeList().filter((n) => n.op === 'onnx.MatMul')).toHaveLength(1); // keep_num_dims over rank 3
    const onOrt = await runOrt(tflite, feeds);
    for (const [name, expected] of onTflite) {
      const want = expected.toNumbers();
      const got = onOrt.get(name)!.toNumbers();
      expect(onOrt.get(name)!.shape, name).toEqual(expected.shape);
      const worst = Math.max(...want.map((v, i) => Math.abs(v - got[i]!)));
      expect(worst, name).toBeLessThanOrEqual(1e-5 * Math.max(1, ...want.map(Math.abs)));
    }
    // The activations are there: RELU leaves no negative value, RELU6 none above 6, and both clamp something.
    const relu = onOrt.get('plain_relu')!.toNumbers();
    expect(Math.min(...relu)).toBe(0);
    expect(Math.min(...onOrt.get('no_bias')!.toNumbers())).toBeLessThan(0);
    expect(Math.max(...onOrt.get('flattened')!.toNumbers())).toBeLessThanOrEqual(6);
  });
});
