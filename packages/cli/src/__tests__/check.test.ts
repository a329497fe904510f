/**
 * `convert --check` with injected faults: a plugin (a .mjs file in a temp folder outside the
 * repository, loaded with --plugin) has a pass that perturbs one weight of a named node and one that
 * swaps two inputs of a named node. The check must stop at that pass, name it and the node
 * (bisection over intermediate tensors in ONNX Runtime), exit 1, write no output but a reproducer
 * that re-runs the check; a clean pipeline passes with exit 0. On the Fashion-MNIST CNN and on real
 * third-party models.
 */
import { existsSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readOnnx } from '@modelpass/onnx';
import { validateReport, type Report } from '@modelpass/report';
import { binPath, repoRoot, runCli, spawnCli } from './run-cli.js';
import { ensureThirdPartyModels } from '../../../../tools/fixtures/third-party.mjs';

const cnn = join(repoRoot, 'fixtures/models/fashion-cnn/model.onnx');

const FAULTS_PLUGIN = `import { definePass, definePlugin, option } from '@modelpass/pass-manager';
import { Tensor } from '@modelpass/ir';

function findNode(model, name) {
  for (const node of model.graph.allNodes()) if (node.name === name) return node;
  throw new Error('no node named ' + name);
}

export default definePlugin({
  name: 'check-faults',
  version: '1.0.0',
  passManager: '>=0.1.0',
  passes: [
    definePass({
      name: 'perturb-weight',
      summary: 'Adds delta to the first element of the weight (input 1) of a node',
      options: { node: option.string({}), delta: option.number({ default: 0.5 }) },
      run(model, context) {
        const node = findNode(model, context.options.node);
        const weight = node.inputs[1];
        const values = Float32Array.from(weight.constant.toNumbers());
        values[0] += context.options.delta;
        node.setInput(1, model.graph.addConstant(model.graph.uniqueName(weight.name + '_perturbed'), Tensor.fromValues('float32', weight.constant.shape, values)));
      },
    }),
    definePass({
      name: 'swap-inputs',
      summary: 'Swaps two inputs of a node',
      options: { node: option.string({}), first: option.integer({ default: 0 }), second: option.integer({ default: 1 }) },
      run(model, context) {
        const node = findNode(model, context.options.node);
        const inputs = [...node.inputs];
        const { first, second } = context.options;
        [inputs[first], inputs[second]] = [inputs[second], inputs[first]];
        node.setInputs(inputs);
      },
    }),
  ],
});
`;

let temp: string;
let plugin: string;
beforeAll(() => {
  expect(existsSync(binPath), `${binPath} is missing: build the CLI first (npx nx run @modelpass/cli:build)`).toBe(true);
  temp = realpathSync(mkdtempSync(join(tmpdir(), 'modelpass-check-')));
  expect(temp.startsWith(repoRoot)).toBe(false);
  plugin = join(temp, 'faults.mjs');
  writeFileSync(plugin, FAULTS_PLUGIN);
});
afterAll(() => rmSync(temp, { recursive: true, force: true }));

function readReport(path: string): Report {
  return validateReport(JSON.parse(readFileSync(path, 'utf8')), path);
}

interface FaultCase {
  readonly model: string;
  readonly pipeline: string;
  readonly pass: string;
  readonly node: string;
  readonly op: string;
  readonly extra?: readonly string[];
}

/** Runs the faulty pipeline with --check and checks everything the failure must say and leave. */
function expectCaught(name: string, fault: FaultCase): Report {
  const output = join(temp, `${name}.onnx`);
  const report = join(temp, `${name}.report.json`);
  const reproducer = join(temp, `${name}-reproducer`);
  const result = spawnCli(['convert', fault.model, '-o', output, '--plugin', plugin, '-p', fault.pipeline, '--check', '--report', report, '--reproducer', reproducer, ...(fault.extra ?? [])], temp);
  expect(result.code, result.stderr).toBe(1);
  expect(result.stderr).toContain(`--check: pass '${fault.pass}'`);
  expect(result.stderr).toContain(`first diverging node '${fault.node}' (${fault.op}`);
  expect(result.stderr).toContain(`written to ${reproducer}`);
  expect(existsSync(output), 'the output must not be written').toBe(false);

  const json = readReport(report);
  expect(json.check).toMatchObject({ status: 'failed', failedPass: { name: fault.pass }, divergence: { node: fault.node, op: fault.op }, reproducer });
  const failed = json.passes.find((p) => p.name === fault.pass)!;
  expect(failed.check!.withinTolerance).toBe(false);
  for (const earlier of json.passes.filter((p) => p.index < failed.index)) expect(earlier.check!.withinTolerance, earlier.name).toBe(true);
  expect(json.passes.every((p) => p.index <= failed.index), 'passes after the failing one are skipped').toBe(true);

  for (const file of ['input.mpir', 'pipeline.txt', 'model.onnx', 'check.json', 'CHECK.md', 'plugins.json']) expect(existsSync(join(reproducer, file)), file).toBe(true);
  expect(readFileSync(join(reproducer, 'pipeline.txt'), 'utf8')).toMatch(new RegExp(`^${fault.pass}\\{`));
  // The reproducer's own command finds the same node again, from the pre-pass model and the saved inputs.
  const command = /modelpass convert model\.onnx -o \S+ --pipeline '([^']+)' --check=(\S+) --check-inputs inputs --plugin "([^"]+)"/.exec(readFileSync(join(reproducer, 'CHECK.md'), 'utf8'));
  expect(command, 'CHECK.md names the command').not.toBeNull();
  const again = spawnCli(['convert', 'model.onnx', '-o', join(temp, `${name}-again.onnx`), '--pipeline', command![1]!, `--check=${command![2]}`, '--check-inputs', 'inputs', '--plugin', command![3]!, '--reproducer', join(temp, `${name}-again`)], reproducer);
  expect(again.code, again.stderr).toBe(1);
  expect(again.stderr).toContain(`first diverging node '${fault.node}'`);
  return json;
}

describe('convert --check on the Fashion-MNIST CNN', () => {
  it('passes a clean pipeline (optimize folds both BatchNormalizations) with exit 0 and reports every pass', () => {
    const output = join(temp, 'clean.onnx');
    const report = join(temp, 'clean.json');
    const result = spawnCli(['convert', cnn, '-o', output, '-p', 'optimize,dce', '--check', '--report', report], temp);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/check #1 optimize: ok — max abs \S+, max rel \S+, cosine \S+, top-1 agreement 1 \(onnxruntime\)/);
    expect(existsSync(output)).toBe(true);
    const json = readReport(report);
    expect(json.check).toMatchObject({ status: 'passed', atol: 1e-5, rtol: 1e-3, inputs: { source: 'random', seed: 0, samples: 1 } });
    expect(json.passes.map((p) => p.name)).toEqual(['optimize', 'dce']);
    expect(json.passes.every((p) => p.check?.withinTolerance === true && p.check.engine === 'onnxruntime')).toBe(true);
    expect(json.models!.before.nodesByOp['BatchNormalization']).toBe(2);
    expect(json.models!.after!.nodesByOp['BatchNormalization']).toBeUndefined();
    expect(json.models!.after!.fileBytes).toBeGreaterThan(0);
  });

  it('catches a perturbed weight and names the pass and the Conv it changed', () => {
    expectCaught('cnn-perturb', { model: cnn, pipeline: 'optimize,perturb-weight{node=/conv2/Conv delta=0.25},dce', pass: 'perturb-weight', node: '/conv2/Conv', op: 'Conv' });
  });

  it('catches two swapped BatchNormalization inputs (scale and bias) on labelled data, with the accuracy drop', () => {
    const json = expectCaught('cnn-swap', {
      model: cnn,
      pipeline: 'swap-inputs{node=/bn2/BatchNormalization first=1 second=2},optimize',
      pass: 'swap-inputs',
      node: '/bn2/BatchNormalization',
      op: 'BatchNormalization',
      extra: ['--check-dataset', 'fashion-mnist:test', '--check-samples', '200'],
    });
    const failed = json.passes.find((p) => p.name === 'swap-inputs')!.check!;
    expect(json.accuracy!.before!.samples).toBe(200);
    expect(failed.accuracy!.top1).toBeLessThan(json.accuracy!.before!.top1 - 0.01);
    expect(failed.withinBudget).toBe(false);
  });

  it('names the accuracy before and after and the budget when only the accuracy budget breaks', () => {
    const output = join(temp, 'accuracy-only.onnx');
    const result = spawnCli(['convert', cnn, '-o', output, '--plugin', plugin, '-p', 'swap-inputs{node=/bn2/BatchNormalization first=1 second=2}', '--check=100,100', '--check-dataset', 'fashion-mnist:test', '--check-samples', '200', '--check-accuracy-budget', '0.02', '--reproducer', join(temp, 'accuracy-only-reproducer')], temp);
    expect(result.code, result.stderr).toBe(1);
    expect(result.stderr).toMatch(/dropped top-1 accuracy from 0\.\d{4} to 0\.\d{4} \(−\d+\.\d\d pp on 200 samples; the budget is 2\.00 pp\)/);
    expect(existsSync(output)).toBe(false);
  });
});

describe('convert --check on real third-party models', async () => {
  const models = new Map((await ensureThirdPartyModels({ ids: ['blazeface-front-128', 'openwakeword-hello-deepa'] })).map((m) => [m.id, m.path] as const));

  it('catches a perturbed depthwise Conv weight in BlazeFace', () => {
    const path = models.get('blazeface-front-128')!;
    const conv = [...readOnnx(path).graph.nodesOf('onnx.Conv')][9]!.name;
    expectCaught('blazeface-perturb', { model: path, pipeline: `simplify,perturb-weight{node="${conv}"}`, pass: 'perturb-weight', node: conv, op: 'Conv' });
  });

  it("catches swapped Sub inputs in openWakeWord's layer norm (that ONNX Runtime's own LayerNorm fusion would hide)", () => {
    expectCaught('wakeword-swap', { model: models.get('openwakeword-hello-deepa')!, pipeline: 'simplify,swap-inputs{node=/blocks.0/layer_norm/Sub}', pass: 'swap-inputs', node: '/blocks.0/layer_norm/Sub', op: 'Sub' });
  });
});

describe('convert --check on a model ONNX Runtime cannot run', () => {
  it('falls back to the reference interpreter and says why', async () => {
    const model = join(temp, 'opset5.mpir');
    writeFileSync(model, `model ir_version=3 opsets{onnx=5} {
graph @main(%x: float32[2,3]) {
  const %w = tensor<float32[3]> [1, 2, 3]
  %a: float32[2,3] = onnx.Add(%x, %w) name="add"
  %y: float32[2,3] = onnx.Relu(%a) name="relu"
  return %y
}
}
`);
    const report = join(temp, 'opset5.json');
    const result = await runCli(['convert', model, '-o', join(temp, 'opset5.onnx'), '-p', 'canonicalize', '--check', '--report', report], temp);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain('check #1 canonicalize: ok');
    expect(result.stderr).toMatch(/check: note: the original model: ONNX Runtime could not run it \(.*Add\(1\).*\); the reference interpreter did/);
    const json = readReport(report);
    expect(json.passes[0]!.check!.engine).toBe('reference');
  });
});

describe('convert --check flags', () => {
  it.each([
    [['--check-inputs', 'x'], /--check-inputs needs --check/],
    [['--check=abc'], /--check ATOL takes a non-negative number, got 'abc'/],
    [['--check=1,2,3'], /--check takes ATOL or ATOL,RTOL/],
    [['--check', '--check-samples', '5'], /--check-samples needs --check-dataset/],
    [['--check', '--check-dataset', 'fashion-mnist:test', '--check-accuracy-budget', '2'], /fraction from 0 to 1/],
  ])('%j is a usage error', async (flags, message) => {
    const result = await runCli(['convert', cnn, '-o', join(temp, 'usage.onnx'), '-p', 'dce', ...flags], temp);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
  });

  it('needs a pipeline', async () => {
    const result = await runCli(['convert', cnn, '-o', join(temp, 'usage.onnx'), '--check'], temp);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--check checks the model after every pass: give a pipeline/);
  });
});
