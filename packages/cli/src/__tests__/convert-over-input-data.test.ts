/**
 * QA s15 round 8: `convert m.onnx -o m.onnx.data` (the file m.onnx keeps its weights in) exited 0 and
 * replaced the weights with the converted model: m.onnx was broken for good (compare: disagree). Such an
 * output is now refused before anything is written; replacing the model file itself is still allowed.
 */
import { mkdtempSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { GraphBuilder, Tensor, tensorType } from '@modelpass/ir';
import { writeOnnx } from '@modelpass/onnx';
import { spawnCli } from './run-cli.js';

const temp = realpathSync(mkdtempSync(join(tmpdir(), 'modelpass-convert-over-data-')));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

describe('convert -o <an external data file of the input>', () => {
  it('is refused naming the data file and the model; the weights stay', () => {
    const g = new GraphBuilder();
    const w = g.constant(Tensor.fromValues('float32', [64, 64], Array.from({ length: 4096 }, (_, i) => Math.sin(i))), 'w');
    g.output(g.op1('onnx.MatMul', [g.input('x', tensorType('float32', [1, 64])), w], {}, { name: 'mm' }));
    const model = join(temp, 'm.onnx');
    writeOnnx(g.model({ onnx: 17 }), model, { externalData: 'always' });
    const data = join(temp, 'm.onnx.data');
    const weights = readFileSync(data);
    const run = spawnCli(['convert', model, '-o', data, '--to', 'onnx'], temp);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`cannot write output '${data}': it is an external data file of the input model '${model}', which would lose its weights`);
    expect(readFileSync(data).equals(weights)).toBe(true);
    expect(spawnCli(['compare', model, model], temp).code).toBe(0);
  });
});
