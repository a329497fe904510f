/**
 * names=short: every value name but the graph's inputs and outputs becomes short and no node name
 * is written (the IR keeps the model's node names for messages and the report), so the file shrinks
 * and nothing else changes: the same ops, and ONNX Runtime gives bit-identical outputs
 * to names=keep. On fashion-resnet, whose int8 weights are 0.24× the float file, the model's own
 * names are what keeps QOperator (per-tensor weights: per-channel-min-gain=20) above 0.26×; with names=short it is under. Checked by ONNX's checker.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Tensor } from '@modelpass/ir';
import { META_UNNAMED, readOnnx, writeOnnx } from '@modelpass/onnx';
import { OrtRunner } from '@modelpass/runtime';
import { checkWithOnnx, fileSize, fixturePath, readFixture, requireReferees, runPipeline, testAccuracy, trainBatches } from './static-helpers.js';

describe('quantize-static{names=short}', () => {
  const dir = mkdtempSync(join(tmpdir(), 'quantize-static-names-'));

  it('fashion-resnet in QOperator form with per-tensor weights: same outputs as names=keep, file under 0.26× fp32', async () => {
    requireReferees();
    const quantized = async (names: string) => {
      const model = readFixture('fashion-resnet');
      await runPipeline(model, `simplify,quantize-static{dataset=fashion-mnist:train samples=64 format=qoperator per-channel-min-gain=20 names=${names}}`);
      const path = join(dir, `resnet-${names}.onnx`);
      writeOnnx(model, path);
      return { model, path };
    };
    const keep = await quantized('keep');
    const short = await quantized('short');
    const original = readFixture('fashion-resnet');
    expect(short.model.graph.inputs.map((v) => v.name)).toEqual(original.graph.inputs.map((v) => v.name));
    expect(short.model.graph.outputs.map((v) => v.name)).toEqual(original.graph.outputs.map((v) => v.name));
    expect([...short.model.graph.nodes()].map((n) => n.op)).toEqual([...keep.model.graph.nodes()].map((n) => n.op));
    // No node name is written; in the IR (--debug, the report) the model's own nodes keep theirs.
    for (const node of readOnnx(short.path).graph.nodes()) expect(node.metadata.get(META_UNNAMED)).toBe('true');
    const ownNodes = [...keep.model.graph.nodes()].map((n) => n.name).filter((name) => !/^(Q|DQ)\d+$/.test(name));
    expect([...short.model.graph.nodes()].map((n) => n.name)).toEqual(expect.arrayContaining(ownNodes));
    for (const value of short.model.graph.definedValues()) if (!value.isGraphInput && !value.isGraphOutput) expect(value.name).toMatch(/^[a-z]+\d+$/);
    checkWithOnnx(short.path);

    const runner = new OrtRunner();
    try {
      const input = original.graph.inputs[0]!.name;
      const [batch] = trainBatches(original, 64);
      const a = await runner.run(keep.path, new Map([[input, batch as Tensor]]));
      const b = await runner.run(short.path, new Map([[input, batch as Tensor]]));
      for (const [name, tensor] of a) expect(b.get(name)!.toNumbers()).toEqual(tensor.toNumbers());
    } finally {
      await runner.dispose();
    }

    const fp32Bytes = fileSize(fixturePath('fashion-resnet'));
    const ratio = fileSize(short.path) / fp32Bytes;
    console.log(`fashion-resnet qoperator: names=keep ${(fileSize(keep.path) / fp32Bytes).toFixed(4)}×, names=short ${ratio.toFixed(4)}×`);
    expect(fileSize(short.path)).toBeLessThan(fileSize(keep.path));
    expect(ratio).toBeLessThanOrEqual(0.26);
    const fp32 = await testAccuracy(fixturePath('fashion-resnet'));
    const int8 = await testAccuracy(short.path);
    expect(Math.abs(fp32 - int8) * 100).toBeLessThanOrEqual(0.3);
  }, 300_000);
});
