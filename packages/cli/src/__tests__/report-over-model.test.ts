/**
 * QA s15 round 8: `inspect m.onnx --report m.onnx` replaced the model with its report (exit 0; the 416 KiB
 * model became a 2 KiB report). A report or statistics file that names a model the command reads or
 * writes (also through a symbolic link) is now refused before anything is written.
 */
import { mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { GraphBuilder, tensorType } from '@modelpass/ir';
import { encodeOnnx } from '@modelpass/onnx';
import { spawnCli } from './run-cli.js';

const temp = realpathSync(mkdtempSync(join(tmpdir(), 'modelpass-report-over-model-')));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

const model = join(temp, 'm.onnx');
const g = new GraphBuilder();
g.output(g.op1('onnx.Relu', [g.input('x', tensorType('float32', [1, 4]))], {}, { name: 'relu' }));
const bytes = encodeOnnx(g.model({ onnx: 17 }));
writeFileSync(model, bytes);

describe('a report file that is a model of the command', () => {
  it('inspect --report <the model itself, or a link to it> is refused and the model kept', () => {
    const same = spawnCli(['inspect', model, '--report', model], temp);
    expect(same.code).toBe(1);
    expect(same.stderr).toContain(`cannot write report file '${model}': it is the model '${model}', which it would replace`);
    symlinkSync('m.onnx', join(temp, 'link.onnx'));
    const linked = spawnCli(['inspect', model, '--report', join(temp, 'link.onnx')], temp);
    expect(linked.code).toBe(1);
    expect(Buffer.from(readFileSync(model)).equals(Buffer.from(bytes))).toBe(true);
  });

  it('convert --report or --statistics-json naming the output is refused; another name is written', () => {
    const out = join(temp, 'out.onnx');
    expect(spawnCli(['convert', model, '-o', out, '--report', out], temp).stderr).toContain(`cannot write report file '${out}': it is the model '${out}'`);
    expect(spawnCli(['convert', model, '-o', out, '--statistics-json', model], temp).stderr).toContain(`cannot write statistics file '${model}': it is the model '${model}'`);
    expect(spawnCli(['inspect', model, '--report', join(temp, 'r.json')], temp).code).toBe(0);
  });
});
