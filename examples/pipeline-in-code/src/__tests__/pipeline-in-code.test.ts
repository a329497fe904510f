import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { attrs, GraphBuilder, Tensor, tensorType, type Model } from '@modelpass/ir';
import { readOnnx, writeOnnx } from '@modelpass/onnx';
import { printPipeline } from '@modelpass/pass-manager';
import { afterAll, describe, expect, it } from 'vitest';
import {
  createEnvironment,
  inferencePipeline,
  INFERENCE_PIPELINE_TEXT,
  optimizeOnnxFile,
  pipelineFromText,
} from '@modelpass-examples/pipeline-in-code';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..');
const FASHION_CNN = join(REPO_ROOT, 'fixtures/models/fashion-cnn');
const work = mkdtempSync(join(tmpdir(), 'modelpass-pipeline-in-code-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** ONNX's own checker (Debian's python3-onnx), when this machine has it. */
function onnxChecker(path: string): { available: boolean; ok: boolean; message: string } {
  const run = spawnSync('/usr/bin/python3', ['-c', 'import onnx,sys; onnx.checker.check_model(onnx.load(sys.argv[1]), full_check=True)', path], { encoding: 'utf8' });
  if (run.error || /No module named/.test(run.stderr ?? '')) return { available: false, ok: false, message: run.stderr ?? String(run.error) };
  return { available: true, ok: run.status === 0, message: run.stderr };
}

const ops = (model: Model): string[] => [...model.graph.nodes()].map((node) => node.opType);

describe('the pipeline composed in code', () => {
  it('prints as the same text a user would write, and the text parses to the same pipeline', () => {
    const environment = createEnvironment();
    expect(printPipeline(inferencePipeline())).toBe(INFERENCE_PIPELINE_TEXT);
    expect(printPipeline(pipelineFromText(INFERENCE_PIPELINE_TEXT, environment))).toBe(INFERENCE_PIPELINE_TEXT);
  });

  it('checks options when a step is built, not when it runs', () => {
    expect(() => inferencePipeline({ maxCleanupIterations: 0 })).toThrow(/max-iterations|maxIterations/);
  });
});

// The fixture is committed (fixtures/models/fashion-cnn): a missing file is a failure, not a skip.
describe('fashion-cnn (torch export, onnx opset 13)', () => {
  it('folds both BatchNorms into the Convs, writes valid ONNX, and ONNX Runtime gives the same logits', async () => {
    const output = join(work, 'fashion-cnn.onnx');
    const report = await optimizeOnnxFile(join(FASHION_CNN, 'model.onnx'), output, { checkInputs: join(FASHION_CNN, 'test_data_set_0') });

    expect(report.pipeline).toBe(INFERENCE_PIPELINE_TEXT);
    expect(report.nodesBefore).toBe(12);
    expect(report.nodesAfter).toBe(10);
    expect(report.opsAfter['BatchNormalization']).toBeUndefined();
    expect(report.statistics['fuse-bn']).toMatchObject({ 'nodes-fused': 2 });
    expect(report.statistics['fuse-hardswish']).toMatchObject({ fused: 0, 'skipped-opset': 0 });
    expect(report.timing).toMatch(/fuse-bn[\s\S]*fuse-hardswish[\s\S]*Total/);
    expect(report.warnings).toEqual([]);

    expect(report.comparison.engines).toEqual(['ort', 'ort']);
    expect(report.comparison.withinTolerance).toBe(true);
    expect(report.comparison.top1Agreement).toBe(1);
    expect(report.comparison.maxAbsError).toBeLessThan(1e-4);

    expect(ops(readOnnx(output))).not.toContain('BatchNormalization');
    const checker = onnxChecker(output);
    expect(checker.available, "ONNX's checker (Debian's python3-onnx) is missing: run 'npm run setup'").toBe(true);
    expect(checker.ok, checker.message).toBe(true);
  });
});

/** A MobileNetV3-style block as older exporters write it: Relu then Clip, x * HardSigmoid(x). */
function hardSwishBlock(): Model {
  const b = new GraphBuilder();
  const x = b.input('image', tensorType('float32', [1, 3, 8, 8]));
  const weights = Tensor.fromValues('float32', [4, 3, 3, 3], Array.from({ length: 108 }, (_, i) => Math.sin(i * 0.7) * 0.5));
  const bias = Tensor.fromValues('float32', [4], [0.1, -0.2, 0.3, 0]);
  const conv = b.op1('onnx.Conv', [x, b.constant(weights, 'w'), b.constant(bias, 'b')], {
    kernel_shape: attrs.ints([3, 3]),
    pads: attrs.ints([1, 1, 1, 1]),
  }, { name: 'conv' });
  const relu = b.op1('onnx.Relu', [conv], {}, { name: 'relu' });
  const relu6 = b.op1('onnx.Clip', [relu, b.constant(Tensor.scalar('float32', 0), 'lo'), b.constant(Tensor.scalar('float32', 6), 'hi')], {}, { name: 'relu6' });
  const gate = b.op1('onnx.HardSigmoid', [relu6], { alpha: attrs.float(1 / 6), beta: attrs.float(0.5) }, { name: 'gate' });
  const swish = b.op1('onnx.Mul', [relu6, gate], {}, { name: 'hardswish' });
  const probabilities = b.op1('onnx.Sigmoid', [swish], {}, { name: 'sigmoid' });
  b.output(b.op1('onnx.Relu', [probabilities], {}, { name: 'relu_out', outputs: ['scores'], types: [tensorType('float32', [1, 4, 8, 8])] }));
  return b.model({ onnx: 17 });
}

describe('a HardSwish block built in code (onnx opset 17)', () => {
  it("runs the plugin's patterns and pass, and ONNX Runtime gives bit-identical outputs", async () => {
    const input = join(work, 'block.onnx');
    const output = join(work, 'block.optimized.onnx');
    writeOnnx(hardSwishBlock(), input);
    const report = await optimizeOnnxFile(input, output, { atol: 0, rtol: 0 });

    expect(ops(readOnnx(output))).toEqual(['Conv', 'Clip', 'HardSwish', 'Sigmoid']);
    expect(report.statistics['canonicalize']).toMatchObject({ rewrites: 2 });
    expect(report.statistics['fuse-hardswish']).toMatchObject({ fused: 1, 'hardsigmoids-removed': 1 });
    expect(report.comparison.maxAbsError).toBe(0);
    expect(report.comparison.withinTolerance).toBe(true);
    const checker = onnxChecker(output);
    expect(checker.available, "ONNX's checker (Debian's python3-onnx) is missing: run 'npm run setup'").toBe(true);
    expect(checker.ok, checker.message).toBe(true);
  });
});

describe('the command (dist/main.js)', () => {
  it('exits 0 and reports the comparison', () => {
    const main = join(REPO_ROOT, 'examples/pipeline-in-code/dist/main.js');
    // nx builds it before `test`; run by hand, build first.
    expect(existsSync(main), `${main} is missing: build first (npx nx run @modelpass-examples/pipeline-in-code:build)`).toBe(true);
    const output = join(work, 'cli.onnx');
    const run = spawnSync(process.execPath, [main, join(FASHION_CNN, 'model.onnx'), output, join(FASHION_CNN, 'test_data_set_0')], { encoding: 'utf8' });
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/nodes: 12 -> 10/);
    expect(run.stdout).toMatch(/within tolerance/);
    expect(run.stderr).toMatch(/Pass execution timing report/);
  });
});
