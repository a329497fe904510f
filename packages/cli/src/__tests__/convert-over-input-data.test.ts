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

/** A MatMul model at `model` whose weights are in the data file `dataFile` next to it. */
function writeExternalModel(model: string, dataFile?: string): void {
  const g = new GraphBuilder();
  const w = g.constant(Tensor.fromValues('float32', [64, 64], Array.from({ length: 4096 }, (_, i) => Math.sin(i))), 'w');
  g.output(g.op1('onnx.MatMul', [g.input('x', tensorType('float32', [1, 64])), w], {}, { name: 'mm' }));
  writeOnnx(g.model({ onnx: 17 }), model, { externalData: 'always', ...(dataFile ? { externalDataFile: dataFile } : {}) });
}

describe('convert -o <an external data file of the input>', () => {
  it('is refused naming the data file and the model; the weights stay', () => {
    const model = join(temp, 'm.onnx');
    writeExternalModel(model);
    const data = join(temp, 'm.onnx.data');
    const weights = readFileSync(data);
    const run = spawnCli(['convert', model, '-o', data, '--to', 'onnx'], temp);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`cannot write output '${data}': it is an external data file of the input model '${model}', which would lose its weights`);
    expect(readFileSync(data).equals(weights)).toBe(true);
    expect(spawnCli(['compare', model, model], temp).code).toBe(0);
  });

  // QA s16: a.onnx kept its weights in b.onnx.data; 'convert a.onnx -o b.onnx' exited 0 and the ONNX writer, which
  // removes the older data files of the name it writes (b.onnx.data), deleted them: a.onnx could no longer be read.
  it("is refused for an ONNX output whose data file name (<output>.data) is the input's data file", () => {
    const model = join(temp, 'a.onnx');
    const data = join(temp, 'b.onnx.data');
    writeExternalModel(model, 'b.onnx.data');
    const weights = readFileSync(data);
    const run = spawnCli(['convert', model, '-o', join(temp, 'b.onnx')], temp);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`cannot write output '${join(temp, 'b.onnx')}': its data file 'b.onnx.data' (where the ONNX writer puts large weights, removing older copies) is an external data file of the input model '${model}'`);
    expect(readFileSync(data).equals(weights)).toBe(true);
    expect(spawnCli(['convert', model, '-o', join(temp, 'c.onnx')], temp).code).toBe(0);
    expect(spawnCli(['compare', model, join(temp, 'c.onnx')], temp).code).toBe(0);
  });
});
