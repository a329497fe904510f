/**
 * The `distill` pass: the MLP fixture (student) learns from the CNN fixture (teacher) run in ONNX
 * Runtime; a re-initialized student's loss falls and its accuracy climbs well above chance on a small
 * seeded sample; feature matching adds a projection that is trained and dropped; bad options are named.
 */
import { GraphBuilder, Tensor, type Model, type ModelpassError } from '@modelpass/ir';
import { readOnnx, writeOnnx } from '@modelpass/onnx';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createOpRegistry, inferShapes } from '@modelpass/ops';
import { PassEnvironment, PassManager, PassRegistry } from '@modelpass/pass-manager';
import { evaluateAccuracy, loadFashionMnist, SeededRandom } from '@modelpass/runtime';
import { addFeatureProjections, distillPasses, loadTeacher, parseFeaturePairs, trainableInitializers } from '@modelpass/train';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const fixture = (name: string) => fileURLToPath(new URL(`../../../../fixtures/models/${name}/model.onnx`, import.meta.url));
const [mlpPath, cnnPath] = [fixture('fashion-mlp'), fixture('fashion-cnn')];
const manager = (debug?: (line: string) => void) => new PassManager({
  environment: new PassEnvironment({ passes: new PassRegistry(distillPasses, '@modelpass/train'), ops: createOpRegistry() }),
  ...(debug ? { debug } : {}),
});

/** Seeded uniform ±1/√fan-in weights, biases 0: a student that knows nothing. */
function reinitialize(model: Model, seed: number): Model {
  const random = new SeededRandom(seed);
  for (const name of trainableInitializers(model)) {
    const value = model.graph.getValue(name)!;
    const tensor = value.constant!;
    const fanIn = tensor.shape.length > 1 ? tensor.shape.slice(1).reduce((a, b) => a * b, 1) : 0;
    const bound = fanIn ? 1 / Math.sqrt(fanIn) : 0;
    value.setConstant(Tensor.fromValues(tensor.dtype, tensor.shape, Float32Array.from({ length: tensor.size }, () => (bound ? random.uniform(-bound, bound) : 0))));
  }
  return model;
}

describe('distill pass', () => {
  it('teaches a re-initialized MLP from the CNN: the loss falls and accuracy rises far above chance', async () => {
    const student = reinitialize(readOnnx(mlpPath), 7);
    const test = loadFashionMnist({ split: 'test', limit: 1000 });
    const before = (await evaluateAccuracy(student, test, { batchSize: 500 })).accuracy;
    const lines: string[] = [];
    await manager((line) => lines.push(line)).run(student, `distill{teacher=${cnnPath} dataset=fashion-mnist:train samples=2560 epochs=2 batch=64 lr=0.05 seed=1}`);
    const after = (await evaluateAccuracy(student, test, { batchSize: 500 })).accuracy;
    const [first, last] = lines.find((line) => line.startsWith('loss: first'))!.match(/[\d.]+/g)!.map(Number);
    expect(last!).toBeLessThan(first! / 3);
    expect(before).toBeLessThan(0.25);
    expect(after).toBeGreaterThan(0.7);
  }, 120_000);

  it('matches features through a MatMul projection that is trained and then dropped', async () => {
    const teacher = loadTeacher(cnnPath, ['/Relu_2_output_0']);
    const student = readOnnx(mlpPath);
    inferShapes(student);
    const features = addFeatureProjections(student, teacher.model, parseFeaturePairs(['/Relu_2_output_0:/Relu_output_0', '/Relu_2_output_0:/Relu_1_output_0']), 0);
    expect(features[0]!.projection).toBeDefined();
    expect(student.graph.getValue(features[0]!.projection!)!.constant!.shape).toEqual([128, 64]);
    expect(features[0]!.student).not.toBe('/Relu_output_0');
    expect(features[1]).toEqual({ teacherTensor: '/Relu_2_output_0', student: '/Relu_1_output_0', target: 'teacher_feature_1' });
    expect(() => addFeatureProjections(student, loadTeacher(cnnPath, ['/Relu_output_0']).model, parseFeaturePairs(['/Relu_output_0:/Relu_output_0']), 0)).toThrow(/differ in more than the channel count/);
    expect(() => parseFeaturePairs(['onlyone'])).toThrow(/not 'teacherTensor:studentTensor'/);

    const model = reinitialize(readOnnx(mlpPath), 3);
    const shape = (m: Model) => ({ ops: m.graph.nodeList().map((n) => n.op), constants: m.graph.constants.map((c) => c.name).sort() });
    const structure = shape(model);
    const lines: string[] = [];
    await manager((line) => lines.push(line)).run(model, `distill{teacher=${cnnPath} dataset=fashion-mnist:train samples=1280 batch=64 lr=0.05 features=[/Relu_2_output_0:/Relu_output_0] feature-weight=0.5}`);
    expect(shape(model)).toEqual(structure);
    const [first, last] = lines.find((line) => line.startsWith('loss: first'))!.match(/[\d.]+/g)!.map(Number);
    expect(last!).toBeLessThan(first! / 2);
  }, 120_000);

  it('names what is missing or wrong', async () => {
    const model = readOnnx(mlpPath);
    await expect(manager().run(model, 'distill{dataset=fashion-mnist:train}')).rejects.toThrow(/distill needs teacher=PATH/);
    await expect(manager().run(model, `distill{teacher=${cnnPath}}`)).rejects.toThrow(/distill needs dataset=/);
    await expect(manager().run(model, 'distill{teacher=/nonexistent/t.onnx dataset=fashion-mnist:train}')).rejects.toThrow(/t\.onnx/);
    await expect(manager().run(model, `distill{teacher=${cnnPath} dataset=fashion-mnist:train features=[nope:/Relu_output_0]}`)).rejects.toThrow(/has no tensor 'nope'/);
  });

  it('stops after the current step when the pipeline is cancelled (Ctrl-C), instead of finishing every epoch', async () => {
    const controller = new AbortController();
    const environment = new PassEnvironment({ passes: new PassRegistry(distillPasses, '@modelpass/train'), ops: createOpRegistry() });
    // aborted as the pass starts (after the pass manager's own check): the pass must notice by itself
    const pressCtrlC = { name: 'ctrl-c', beforePass: () => controller.abort(new Error('user pressed ^C')) };
    const manager = new PassManager({ environment, signal: controller.signal, instrumentations: [pressCtrlC] });
    const error = await manager.run(readOnnx(mlpPath), `distill{teacher=${cnnPath} dataset=fashion-mnist:train samples=6400 epochs=3 threads=1}`).then(
      () => undefined,
      (e: unknown) => e as ModelpassError,
    );
    expect(error?.message).toContain('distill interrupted at step 1');
  }, 60_000);

  it('a feature tensor a model lacks: the hint gives the closest name and real tensor names (inspect lists none)', async () => {
    const hintOf = async (pipeline: string): Promise<string> => {
      try {
        await manager().run(readOnnx(mlpPath), pipeline);
      } catch (error) {
        const cause = (error as { cause?: unknown }).cause;
        const diagnostics = [(error as ModelpassError).diagnostics ?? [], (cause as ModelpassError | undefined)?.diagnostics ?? []].flat();
        return [(error as Error).message, ...diagnostics.map((d) => d.hint ?? '')].join('\n');
      }
      throw new Error('ran');
    };
    const teacherSide = await hintOf(`distill{teacher=${cnnPath} dataset=fashion-mnist:train samples=64 features=[/relu_output_0:x]}`);
    expect(teacherSide).toContain("did you mean '/Relu_output_0'?");
    expect(teacherSide).toContain("of the teacher, e.g. '/conv1/Conv_output_0'");
    expect(teacherSide).not.toContain('modelpass inspect');
  });

  it('a teacher that fails on the student\'s batches is named by its path, with the batch it was fed', async () => {
    const b = new GraphBuilder();
    const x = b.input('x', { kind: 'tensor', dtype: 'float32', shape: ['N', 784] });
    // [N,784] → [5,-1] fails for any batch of 64 (64·784 is not a multiple of 5): a run-time failure, not a load-time one.
    b.output(b.op1('onnx.Reshape', [x, b.constant(Tensor.fromValues('int64', [2], [5, -1]))]));
    const folder = mkdtempSync(join(tmpdir(), 'distill-teacher-'));
    const teacher = join(folder, 'bad-teacher.onnx');
    writeOnnx(b.model({ onnx: 13 }), teacher);
    try {
      const run = manager().run(readOnnx(mlpPath), `distill{teacher=${teacher} dataset=fashion-mnist:train samples=64 batch=64 epochs=1}`);
      await expect(run).rejects.toThrow(/distill teacher '.*bad-teacher\.onnx': failed on a batch of float32\[64,784\]/);
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });
});
