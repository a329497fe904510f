/**
 * Fixed batch dimensions in distillation (QA s12, models exported without dynamic axes, input [1,3,16,16]):
 * - a teacher with a fixed batch got the student's whole batch (or, with the cached logits, 256 samples) and
 *   ONNX Runtime refused it ("Got invalid dimensions for input"), with a hint about sample layouts. It now runs
 *   in parts of its batch (the last part padded with zeros, its rows dropped).
 * - a student with a fixed batch other than batch= failed at "training step 0" with ORT's message; it is now
 *   refused up front, naming the option and the student's batch; train{batch=…} likewise.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { GraphBuilder, Tensor, attrs, tensorType } from '@modelpass/ir';
import { readOnnx, writeOnnx } from '@modelpass/onnx';
import { createOpRegistry } from '@modelpass/ops';
import { PassEnvironment, PassManager, PassRegistry, StatisticsInstrumentation } from '@modelpass/pass-manager';
import { distillPasses, trainPasses } from '@modelpass/train';

const dir = mkdtempSync(join(tmpdir(), 'distill-fixed-batch-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const mlpPath = fileURLToPath(new URL('../../../../fixtures/models/fashion-mlp/model.onnx', import.meta.url));

/** logits = Gemm(flatten(x), W), x float32[1,1,28,28]: a teacher with a fixed batch of 1. */
function fixedBatchTeacher(): string {
  const b = new GraphBuilder();
  const x = b.input('input', tensorType('float32', [1, 1, 28, 28]));
  const flat = b.op1('onnx.Flatten', [x], { axis: attrs.int(1) }, { name: 'flatten' });
  const w = Tensor.fromValues('float32', [784, 10], Array.from({ length: 7840 }, (_, i) => Math.sin(i * 0.37) * 0.05));
  const logits = b.op1('onnx.MatMul', [flat, b.constant(w, 'w')], {}, { name: 'fc', outputs: ['logits'] });
  logits.type = tensorType('float32', [1, 10]);
  b.output(logits);
  const path = join(dir, 'teacher-b1.onnx');
  writeOnnx(b.model({ onnx: 13 }), path);
  return path;
}

async function distill(studentPath: string, options: string): Promise<Record<string, number>> {
  const statistics = new StatisticsInstrumentation();
  const manager = new PassManager({ environment: new PassEnvironment({ passes: new PassRegistry(distillPasses, '@modelpass/train'), ops: createOpRegistry() }), instrumentations: [statistics] });
  await manager.run(readOnnx(studentPath), `distill{${options}}`);
  return Object.fromEntries(statistics.get('distill') ?? new Map());
}

describe('distill with fixed batch dimensions', () => {
  const teacher = fixedBatchTeacher();

  it('runs a fixed-batch teacher in parts, per batch and with its logits cached', async () => {
    const perBatch = await distill(mlpPath, `teacher=${teacher} dataset=fashion-mnist:train samples=64 batch=16 epochs=1`);
    expect(perBatch.steps).toBe(4);
    const cached = await distill(mlpPath, `teacher=${teacher} dataset=fashion-mnist:train samples=64 batch=16 epochs=2`);
    expect(cached.steps).toBe(8);
  }, 120_000);

  it('refuses batch= other than a fixed-batch student\'s batch, naming both', async () => {
    await expect(distill(teacher, `teacher=${teacher} dataset=fashion-mnist:train samples=64 batch=16`)).rejects.toThrow(
      /option 'batch' of pass 'distill' is 16, but the student's input 'input' takes a fixed batch of 1/,
    );
  }, 60_000);

  it('train refuses batch= other than a fixed-batch model\'s batch, and trains with it', async () => {
    const run = async (options: string) => {
      const statistics = new StatisticsInstrumentation();
      const manager = new PassManager({ environment: new PassEnvironment({ passes: new PassRegistry(trainPasses, '@modelpass/train'), ops: createOpRegistry() }), instrumentations: [statistics] });
      await manager.run(readOnnx(teacher), `train{${options}}`);
      return Object.fromEntries(statistics.get('train') ?? new Map());
    };
    await expect(run('dataset=fashion-mnist:train samples=16 batch=8')).rejects.toThrow(/batch size 8 \(train's batch=, fit's batchSize\) cannot feed input 'input', which takes a fixed batch of 1/);
    expect((await run('dataset=fashion-mnist:train samples=4 batch=1')).steps).toBe(4);
  }, 60_000);
});
