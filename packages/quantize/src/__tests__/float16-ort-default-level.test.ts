/**
 * convert-float16 on torch's attention pattern (QA s12 R1, nn.TransformerEncoder): a float16
 * Transpose with perm [1,0,2] feeding a MatMul made onnxruntime-node 1.30 SEGFAULT while creating a
 * session at its DEFAULT graph optimization level (NchwcTransformer), although the file is valid.
 * The pass keeps such Transposes float32; the converted model must load in ORT at the default
 * level. ORT runs in a child process, so a crash fails the test instead of killing vitest.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { attrs, GraphBuilder, tensorType, type Model } from '@modelpass/ir';
import { writeOnnx } from '@modelpass/onnx';
import { disposeSharedOrtRunner, runOrt } from '@modelpass/runtime';
import { onnxChecker, randomTensor, runPipeline } from './weights-helpers.js';

const ortPath = createRequire(import.meta.url).resolve('onnxruntime-node');
const work = mkdtempSync(join(tmpdir(), 'modelpass-float16-ort-'));
afterAll(async () => {
  rmSync(work, { recursive: true, force: true });
  await disposeSharedOrtRunner();
});

/** x [len,batch,12] → Transpose [1,0,2] → MatMul w [12,8] → y; the Transpose also feeds a Relu → z. */
function attentionPrefix(): Model {
  const b = new GraphBuilder();
  const x = b.input('x', tensorType('float32', ['len', 'batch', 12]));
  const t = b.op1('onnx.Transpose', [x], { perm: attrs.ints([1, 0, 2]) }, { name: 'transpose', outputs: ['t'] });
  const y = b.op1('onnx.MatMul', [t, b.constant(randomTensor([12, 8], 3), 'w')], {}, { name: 'matmul', outputs: ['y'] });
  const z = b.op1('onnx.Relu', [t], {}, { name: 'relu', outputs: ['z'] });
  b.output(y, z);
  return b.model({ onnx: 13 });
}

/** Creates an ORT session on `path` with ORT's defaults in a child process: its exit status and output. */
function loadWithDefaults(path: string): { status: number | null; signal: NodeJS.Signals | null; output: string } {
  const script = `require(${JSON.stringify(ortPath)}).InferenceSession.create(${JSON.stringify(path)}).then(() => console.log('loaded'), (e) => { console.log('error: ' + e.message); process.exit(3); });`;
  const child = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 60_000 });
  return { status: child.status, signal: child.signal, output: `${child.stdout}${child.stderr}` };
}

describe('convert-float16: the converted file loads in ONNX Runtime at its default optimization level', () => {
  it('keeps a Transpose feeding a MatMul float32 (debug reason, statistic); ORT loads it and agrees with float32', async () => {
    const input = randomTensor([5, 2, 12], 9);
    const reference = await runOrt(attentionPrefix(), { x: input });
    const model = attentionPrefix();
    const run = await runPipeline(model, 'convert-float16');
    expect(run.statistics.get('nodes-kept-for-ort')).toBe(1);
    const transpose = [...model.graph.nodesOf('onnx.Transpose')][0]!;
    expect(transpose.outputs[0]!.type).toMatchObject({ dtype: 'float32' });
    expect([...model.graph.nodesOf('onnx.Relu')][0]!.outputs[0]!.type).toMatchObject({ dtype: 'float16' });
    expect([...model.graph.nodesOf('onnx.MatMul')][0]!.outputs[0]!.type).toMatchObject({ dtype: 'float16' });

    const out = join(work, 'attention-fp16.onnx');
    writeOnnx(model, out);
    onnxChecker(out);
    const loaded = loadWithDefaults(out);
    expect({ status: loaded.status, signal: loaded.signal }, loaded.output).toEqual({ status: 0, signal: null });
    expect(loaded.output).toContain('loaded');

    const half = await runOrt(out, { x: input });
    for (const name of ['y', 'z']) {
      const ref = reference.get(name)!.toNumbers();
      const got = half.get(name)!.toNumbers();
      let worst = 0;
      for (let i = 0; i < ref.length; i++) worst = Math.max(worst, Math.abs(ref[i]! - got[i]!) / (1 + Math.abs(ref[i]!)));
      expect(worst, name).toBeLessThan(1e-2);
    }
  }, 120_000);
});
