/**
 * QA s14 round 7: an ONNX graph output declared with an empty shape (`float32[]`, rank 0) while its
 * producer computes rank 4 converted with exit 0 but came out channels-last (no transpose back): the
 * declared rank steered the layout. ONNX Runtime runs the real rank, so the .tflite now takes the
 * computed type, with a warning naming the output; compare agrees in both io-layouts.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { attrs, GraphBuilder, tensorType } from '@modelpass/ir';
import { writeOnnx } from '@modelpass/onnx';
import { readTflite } from '@modelpass/tflite';
import { runCli } from './run-cli.js';

const temp = mkdtempSync(join(tmpdir(), 'modelpass-declared-rank-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

const source = join(temp, 'rank0-output.onnx');
const b = new GraphBuilder();
const x = b.input('x', tensorType('float32', [1, 18, 5, 6]));
const y = b.op1('onnx.DepthToSpace', [x], { blocksize: attrs.int(3) }, { name: 'd2s', outputs: ['y'] });
y.type = tensorType('float32', []);
b.output(y);
writeOnnx(b.model({ onnx: 13 }), source);

describe('an output declared rank 0 that is rank 4', () => {
  for (const [layout, shape] of [['nchw', [1, 2, 15, 18]], ['nhwc', [1, 15, 18, 2]]] as const) {
    it(`--io-layout ${layout}: the .tflite output is the computed rank-4 tensor in that layout, a warning names it, compare agrees`, async () => {
      const output = join(temp, `out-${layout}.tflite`);
      const converted = await runCli(['convert', source, '-o', output, '--io-layout', layout]);
      expect(converted.code).toBe(0);
      expect(converted.stderr).toContain("graph output 'y' is declared float32[] but its producer computes float32[1,2,15,18]");
      const written = readTflite(output).graph.outputs[0]!.type;
      expect(written.kind === 'tensor' ? written.shape : null).toEqual(shape);
      const compared = await runCli(['compare', source, output]);
      expect(compared.stdout).toContain('verdict: agree');
      expect(compared.code).toBe(0);
    });
  }
});
