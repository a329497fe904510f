/**
 * The com.microsoft contrib ops and integer ops our quantization passes write, checked on models the
 * passes make from the Fashion-MNIST fixtures (through the pass manager, as users run them):
 * - every quantized model verifies with 0 errors (types checked against each op's inference), and
 *   shape inference reaches every value (no unknown output types after the quantized layers);
 * - ONNX Runtime loads and runs each of them;
 * - FLOPs/MACs (`analyzeCost`) compare with the float model's: the same MACs, FLOPs within 1%
 *   in QOperator form and int4 weight-only form (within 7% in QDQ form, where every Q/DQ counts);
 * - a MatMulNBits made wrong (K, block size, packed B shape, scales) gets a located verifier error
 *   and ONNX Runtime refuses the same file.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import { attrs, Tensor, verifyModel, type Model, type Node } from '@modelpass/ir';
import { analyzeCost, createOpRegistry } from '@modelpass/ops';
import { encodeOnnx, readOnnx } from '@modelpass/onnx';
import { PassEnvironment, PassManager } from '@modelpass/pass-manager';
import { quantizePasses } from '@modelpass/quantize';
import { transformPasses } from '@modelpass/transforms';

const FIXTURES = new URL('../../../../fixtures/models/', import.meta.url).pathname;
// spawned from packages/cli/dist (nx builds it first: this project's test target depends on ^build).
const CLI = new URL('../../../cli/dist/bin.js', import.meta.url).pathname;
const run = promisify(execFile);
const readFixture = (name: string): Model => readOnnx(`${FIXTURES}${name}/model.onnx`);

async function runPipeline(model: Model, pipeline: string): Promise<Model> {
  const environment = new PassEnvironment({ ops: createOpRegistry() });
  environment.passes.register(transformPasses, '@modelpass/transforms');
  environment.passes.register(quantizePasses, '@modelpass/quantize');
  await new PassManager({ environment }).run(model, pipeline);
  return model;
}

function errorsOf(model: Model): string[] {
  return verifyModel(model, { registry: createOpRegistry() })
    .filter((d) => d.severity === 'error')
    .map((d) => `${d.code}: ${d.reason} @${d.location?.node ?? ''}`);
}

const opsOf = (model: Model): string[] => [...new Set([...model.graph.nodes()].map((node: Node) => node.op))].sort();

/** Loads the model in ONNX Runtime and runs it once on ones; the error message when ORT refuses. */
async function ortRefusal(model: Model): Promise<string | undefined> {
  let session: ort.InferenceSession | undefined;
  try {
    session = await ort.InferenceSession.create(encodeOnnx(model), { logSeverityLevel: 3 });
    const input = model.graph.inputs.find((value) => !value.constant)!;
    const shape = input.type.kind === 'tensor' && input.type.shape ? input.type.shape.map((d) => (typeof d === 'number' ? d : 2)) : [];
    const size = shape.reduce((a, b) => a * b, 1);
    await session.run({ [input.name]: new ort.Tensor('float32', new Float32Array(size).fill(1), shape) });
    return undefined;
  } catch (error) {
    return (error as Error).message;
  } finally {
    await session?.release();
  }
}

/** The float baseline is the fixture after `simplify,fuse-bn` (quantize-static folds BatchNormalization too). */
const CASES: readonly { model: string; pipeline: string; flopsWithin: number }[] = [
  // QOperator and weight-only forms: FLOPs within 1% (Relu folded into the output range, Q at the input, DQ at the output).
  { model: 'fashion-cnn', pipeline: 'simplify,quantize-static{samples=32 format=qoperator}', flopsWithin: 0.01 },
  { model: 'fashion-mlp', pipeline: 'simplify,quantize-static{samples=32 format=qoperator}', flopsWithin: 0.01 },
  { model: 'fashion-resnet', pipeline: 'simplify,quantize-static{samples=32 format=qoperator}', flopsWithin: 0.01 },
  { model: 'fashion-transformer', pipeline: 'simplify,quantize-static{samples=32 format=qoperator}', flopsWithin: 0.01 },
  { model: 'fashion-mlp', pipeline: 'simplify,quantize-weights', flopsWithin: 0.01 },
  { model: 'fashion-transformer', pipeline: 'simplify,quantize-weights', flopsWithin: 0.01 },
  // QDQ form and dynamic quantization: every QuantizeLinear/DequantizeLinear (DynamicQuantizeLinear, the
  // rescaling Mul) costs its 1 (2) FLOPs per element on top of the same MACs.
  { model: 'fashion-cnn', pipeline: 'simplify,quantize-static{samples=32}', flopsWithin: 0.07 }, // +6.1%: a Q and a DQ per activation element
  { model: 'fashion-mlp', pipeline: 'simplify,quantize-dynamic', flopsWithin: 0.05 },
  { model: 'fashion-cnn', pipeline: 'simplify,quantize-dynamic{ops=[MatMul,Gemm,Conv]}', flopsWithin: 0.05 }, // Conv is opt-in (ConvInteger)
];

describe('quantized models the passes write', () => {
  it.each(CASES)('$model | $pipeline: verifies with 0 errors, ORT runs it, same MACs as float', async ({ model: name, pipeline, flopsWithin }) => {
    const float = await runPipeline(readFixture(name), 'simplify,fuse-bn');
    const quantized = await runPipeline(readFixture(name), pipeline);
    expect(errorsOf(quantized)).toEqual([]);
    expect(await ortRefusal(quantized)).toBeUndefined();
    const before = analyzeCost(float);
    const after = analyzeCost(quantized);
    const change = after.flops / before.flops - 1;
    console.log(`${name} | ${pipeline}: ${opsOf(quantized).filter((op) => !op.startsWith('onnx.') || op.includes('Integer') || op.startsWith('onnx.QLinear')).join(' ')}; MACs ${before.macs} → ${after.macs}, FLOPs ${before.flops} → ${after.flops} (${(change * 100).toFixed(2)}%)`);
    expect(after.uncounted).toEqual([]);
    expect(before.macs).toBeGreaterThan(0);
    expect(after.macs).toBe(before.macs);
    expect(Math.abs(change)).toBeLessThanOrEqual(flopsWithin);
  });
});

describe('a malformed MatMulNBits', () => {
  /** fashion-mlp after quantize-weights (int4, block 32): fc1 is MatMulNBits K=784, N=256. */
  async function int4Mlp(): Promise<{ model: Model; node: Node }> {
    const model = await runPipeline(readFixture('fashion-mlp'), 'simplify,quantize-weights');
    const node = [...model.graph.nodes()].find((n) => n.op === 'com.microsoft.MatMulNBits')!;
    return { model, node };
  }
  const reshaped = (tensor: Tensor, shape: number[]): Tensor => Tensor.fromValues(tensor.dtype, shape, tensor.toNumbers());

  it.each([
    { what: 'K that is not A\'s last dim', code: 'ops/matmul-nbits-k', mutate: (node: Node) => node.setAttribute('K', attrs.int(node.attr('K', 'int') - 32)) },
    { what: 'a block size that is not a power of two', code: 'ops/matmul-nbits-block-size', mutate: (node: Node) => node.setAttribute('block_size', attrs.int(24)) },
    {
      what: 'B packed flat [N, k_blocks·blob]',
      code: 'ops/matmul-nbits-shape',
      mutate: (node: Node) => {
        const b = node.input(1);
        const [n, blocks, blob] = b.constant!.shape as number[];
        b.setConstant(reshaped(b.constant!, [n!, blocks! * blob!]));
      },
    },
    {
      what: 'B packed for block size 16 while the node says 32',
      code: 'ops/matmul-nbits-shape',
      mutate: (node: Node) => {
        const b = node.input(1);
        const [n, blocks, blob] = b.constant!.shape as number[];
        b.setConstant(reshaped(b.constant!, [n!, blocks! * 2, blob! / 2]));
      },
    },
    {
      what: 'one scale per output row',
      code: 'ops/matmul-nbits-shape',
      mutate: (node: Node) => {
        const scales = node.input(2);
        const n = node.attr('N', 'int');
        scales.setConstant(Tensor.fromValues('float32', [n], scales.constant!.toNumbers().slice(0, n)));
      },
    },
  ])('($what): the verifier names it at the node, and ONNX Runtime refuses the file', async ({ code, mutate }) => {
    const { model, node } = await int4Mlp();
    expect(errorsOf(model)).toEqual([]);
    mutate(node);
    const found = verifyModel(model, { registry: createOpRegistry() }).filter((d) => d.severity === 'error');
    expect(found.map((d) => d.code)).toContain(code);
    expect(found.find((d) => d.code === code)!.location?.node).toBe(node.name);
    const refusal = await ortRefusal(model);
    console.log(`${code}: ${found.find((d) => d.code === code)!.reason}\n  ORT: ${refusal?.split('\n')[0]}`);
    expect(refusal).toBeDefined();
  });
});

describe('modelpass inspect on an int4 model', () => {
  it('counts the MatMulNBits layers: the same FLOPs and MACs as the float model', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'contrib-inspect-'));
    const source = `${FIXTURES}fashion-transformer/model.onnx`;
    const float = join(dir, 'float.onnx');
    const int4 = join(dir, 'int4.onnx');
    await run(process.execPath, [CLI, 'convert', source, '-p', 'simplify', '-o', float]);
    await run(process.execPath, [CLI, 'convert', source, '-p', 'simplify,quantize-weights', '-o', int4]);
    const inspect = async (path: string) => JSON.parse((await run(process.execPath, [CLI, 'inspect', path, '--json'])).stdout) as { flops: number; macs: number; uncounted: unknown[]; layers: { op: string }[]; ops: Record<string, number> };
    const before = await inspect(float);
    const after = await inspect(int4);
    expect(after.ops['com.microsoft.MatMulNBits']).toBe(10);
    expect(after.uncounted).toEqual([]);
    expect(after.macs).toBe(before.macs);
    expect(after.flops).toBe(before.flops);
    expect(after.layers.filter((layer) => layer.op === 'com.microsoft.MatMulNBits').length).toBeGreaterThan(0);
  });
});
