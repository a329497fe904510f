/**
 * Issue 12 (audit s14): a model converted to TFLite carried no SignatureDef, though TensorFlow's own
 * converter writes `serving_default` and TFLite's signature runners find inputs and outputs by it.
 * Now legalize-tflite records one with the source model's input and output names; a .tflite read and
 * written again keeps exactly the signatures it had (none stays none).
 */
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readOnnx } from '@modelpass/onnx';
import { META_SIGNATURE_DEFS, readTflite } from '@modelpass/tflite';
import { ensureThirdPartyModels } from '../../../../tools/fixtures/third-party.mjs';
import { repoRoot, runCli } from './run-cli.js';

const temp = mkdtempSync(join(tmpdir(), 'modelpass-tflite-signature-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));
const cnn = join(temp, 'cnn.onnx');
copyFileSync(join(repoRoot, 'fixtures/models/fashion-cnn/model.onnx'), cnn);

const signaturesOf = (path: string) => JSON.parse(readTflite(path).metadata.get(META_SIGNATURE_DEFS) ?? '[]') as { key: string; inputs: { name: string }[]; outputs: { name: string }[] }[];

describe('a converted .tflite has a serving_default signature', () => {
  for (const layout of ['nchw', 'nhwc']) {
    it(`ONNX → TFLite (--io-layout ${layout}): the signature names the ONNX inputs and outputs; the TFLite runtime runs the file`, async () => {
      const output = join(temp, `cnn-${layout}.tflite`);
      const converted = await runCli(['convert', cnn, '-o', output, '--io-layout', layout]);
      expect(converted.code).toBe(0);
      const io = readOnnx(cnn).graph;
      const signatures = signaturesOf(output);
      expect(signatures.map((s) => s.key)).toEqual(['serving_default']);
      expect(signatures[0]!.inputs.map((e) => e.name)).toEqual(io.inputs.map((e) => e.name));
      expect(signatures[0]!.outputs.map((e) => e.name)).toEqual(io.outputs.map((e) => e.name));
      const compared = await runCli(['compare', cnn, output]);
      expect(compared.code).toBe(0);
    });
  }

  it('a .tflite without signatures (MediaPipe face detection) stays without one, raised and legalized again too', async () => {
    const [face] = await ensureThirdPartyModels({ ids: ['mediapipe-face-detection-short-range'] });
    expect(signaturesOf(face!.path)).toEqual([]);
    const plain = join(temp, 'face.tflite');
    expect((await runCli(['convert', face!.path, '-o', plain])).code).toBe(0);
    expect(signaturesOf(plain)).toEqual([]);
    const raised = join(temp, 'face-raised.tflite');
    expect((await runCli(['convert', face!.path, '-o', raised, '-p', 'raise-tflite'])).code).toBe(0);
    expect(signaturesOf(raised)).toEqual([]);
  });
});
