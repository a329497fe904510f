/**
 * quantize-static{report=…} into a folder that does not exist created that folder (convert's -o refuses a
 * missing folder), and report=<a folder> failed only after calibrating (QA s12). Both are refused up front.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { GraphBuilder, tensorType, type Model } from '@modelpass/ir';
import { randomTensor, runPipeline, pipelineFailure } from './weights-helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'quantize-report-path-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function model(): Model {
  const b = new GraphBuilder();
  const x = b.input('x', tensorType('float32', ['batch', 16]));
  const h = b.op1('onnx.MatMul', [x, b.constant(randomTensor([16, 16], 1), 'w1')], {}, { name: 'fc1' });
  b.output(b.op1('onnx.MatMul', [b.op1('onnx.Relu', [h]), b.constant(randomTensor([16, 4], 2), 'w2')], {}, { name: 'fc2', outputs: ['y'] }));
  return b.model({ onnx: 13 });
}

describe('quantize-static report=', () => {
  it('into a missing folder is refused and the folder is not created', async () => {
    const missing = join(dir, 'no', 'such');
    const message = await pipelineFailure(runPipeline(model(), `quantize-static{samples=4 report=${join(missing, 'r.json')}}`));
    expect(message).toContain(`option 'report' of pass 'quantize-static': its folder '${missing}' does not exist`);
    expect(existsSync(join(dir, 'no'))).toBe(false);
  });

  it('naming a folder is refused', async () => {
    expect(await pipelineFailure(runPipeline(model(), `quantize-static{samples=4 report=${dir}}`))).toContain(`'${dir}' is a folder`);
  });

  it('into an existing folder is written', async () => {
    await runPipeline(model(), `quantize-static{samples=4 report=${join(dir, 'r.json')}}`);
    expect(existsSync(join(dir, 'r.json'))).toBe(true);
  }, 60_000);
});
