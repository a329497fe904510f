// Pass authors' typical mistakes, made on real models: each mutation must be caught by the verifier
// with a located message (node, op, operand, expected vs actual), AND ONNX Runtime must refuse or
// fail on the mutated model exported with @modelpass/onnx, so the verifier agrees with the referee.
// Controls: the untouched models and a correctly quantized weight verify clean and run in ORT,
// so neither half of a mutation's check can pass by default.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import * as ort from 'onnxruntime-node';
import { attrs, formatDiagnostic, Tensor, tensorType, verifyModel, type Diagnostic, type DType, type Model, type Node, type Value } from '@modelpass/ir';
import { readOnnx, writeOnnx } from '@modelpass/onnx';
import { createOpRegistry, inferShapes, readNumbers } from '@modelpass/ops';
import { definePass, PassEnvironment, PassFailure, PassRegistry, runPipeline } from '@modelpass/pass-manager';
import { toOrtTensor } from '@modelpass/runtime';
import { projectOnnxModels, realModelFeeds, runOrtOnce, thirdPartyOnnxModels, type RealOnnxModel } from '@modelpass/conformance';
import { ensureThirdPartyModels } from '../../../../tools/fixtures/third-party.mjs';

const registry = createOpRegistry();
const outDir = mkdtempSync(join(tmpdir(), 'modelpass-verifier-mutations-'));
afterAll(() => rmSync(outDir, { recursive: true, force: true }));

const corpus = new Map<string, RealOnnxModel>();
beforeAll(async () => {
  for (const entry of projectOnnxModels()) corpus.set(entry.id, entry);
  for (const entry of thirdPartyOnnxModels(await ensureThirdPartyModels({ ids: ['ppocr-mobile-v2-cls'] }))) corpus.set(entry.id, entry);
});

/** The corpus model, imported and typed by inferShapes, as a pipeline sees it. */
function load(id: string): { entry: RealOnnxModel; model: Model } {
  const entry = corpus.get(id);
  if (!entry) throw new Error(`corpus model '${id}' missing`);
  const model = readOnnx(entry.path);
  inferShapes(model, registry);
  return { entry, model };
}

function errorsOf(model: Model): Diagnostic[] {
  return verifyModel(model, { registry }).filter((d) => d.severity === 'error');
}

/** ORT's refusal of the model (load or run on the corpus feeds), or undefined when it runs. */
async function ortRefusal(entry: RealOnnxModel, model: Model, name: string): Promise<string | undefined> {
  const path = join(outDir, `${name}.onnx`);
  // valueInfo 'all': every type the IR holds goes into the file, as a pass's stale types would.
  writeOnnx(model, path, { externalData: 'never', valueInfo: 'all' });
  const feeds: Record<string, ort.Tensor> = {};
  for (const [input, tensor] of realModelFeeds(entry, readOnnx(entry.path))) feeds[input] = toOrtTensor(ort.Tensor, tensor, input) as ort.Tensor;
  try {
    await runOrtOnce(path, feeds);
    return undefined;
  } catch (error) {
    return (error as Error).message.split('\n')[0] ?? String(error);
  }
}

const nodesOf = (model: Model, op: string): Node[] => model.graph.nodeList().filter((n) => n.op === op);
const weightOf = (node: Node): Value => node.inputs[1]!;
/** A weight's data: an initializer, or a Constant node's value (paddle2onnx writes weights so). */
function weightData(node: Node): Tensor {
  const weight = weightOf(node);
  const data = weight.constant ?? (weight.producer?.op === 'onnx.Constant' ? weight.producer.attr('value', 'tensor') : undefined);
  if (!data) throw new Error(`weight of '${node.name}' is not constant`);
  return data;
}
/** Gives `node` new weight data: setConstant on an initializer, else a new initializer in its place. */
function setWeight(model: Model, node: Node, tensor: Tensor): void {
  const weight = weightOf(node);
  if (weight.constant) weight.setConstant(tensor);
  else node.setInput(1, model.graph.addConstant(model.graph.uniqueName(`${weight.name}_replaced`), tensor));
}
function f32(shape: readonly number[], values: ArrayLike<number>): Tensor {
  return Tensor.fromValues('float32', shape, Array.from(values));
}
/** The first `rows` slices along axis 0. */
function firstRows(tensor: Tensor, rows: number): Tensor {
  const inner = tensor.size / tensor.shape[0]!;
  return f32([rows, ...tensor.shape.slice(1)], readNumbers(tensor).slice(0, rows * inner) as ArrayLike<number>);
}
/** Per-output-channel symmetric int8 quantization of a float weight (axis 0). */
function quantizePerChannel(weight: Tensor): { values: Tensor; scale: number[] } {
  const channels = weight.shape[0]!;
  const inner = weight.size / channels;
  const data = readNumbers(weight);
  const scale: number[] = [];
  const q = new Array<number>(weight.size);
  for (let c = 0; c < channels; c++) {
    let max = 0;
    for (let i = 0; i < inner; i++) max = Math.max(max, Math.abs(data[c * inner + i]!));
    const s = max > 0 ? max / 127 : 1;
    scale.push(s);
    for (let i = 0; i < inner; i++) q[c * inner + i] = Math.max(-127, Math.min(127, Math.round(data[c * inner + i]! / s)));
  }
  return { values: Tensor.fromValues('int8', weight.shape, q), scale };
}

interface DequantizeSpec {
  scaleLength?: number;
  axis?: number;
  zeroPointDType?: DType;
  zeroPointLength?: number;
}
/** Puts `node`'s float weight behind DequantizeLinear(int8 weight, scale, zero point), per channel. */
function weightBehindDequantize(model: Model, node: Node, spec: DequantizeSpec = {}): Node {
  const weight = weightOf(node);
  const { values, scale } = quantizePerChannel(weight.constant!);
  const scaleLength = spec.scaleLength ?? scale.length;
  const zeroLength = spec.zeroPointLength ?? scaleLength;
  const graph = model.graph;
  const q = graph.addConstant(graph.uniqueName(`${weight.name}_quantized`), values);
  const s = graph.addConstant(graph.uniqueName(`${weight.name}_scale`), f32([scaleLength], Array.from({ length: scaleLength }, (_, i) => scale[i % scale.length]!)));
  const z = graph.addConstant(graph.uniqueName(`${weight.name}_zero_point`), Tensor.fromValues(spec.zeroPointDType ?? 'int8', [zeroLength], new Array<number>(zeroLength).fill(0)));
  const dq = graph.createNode({
    op: 'onnx.DequantizeLinear',
    inputs: [q, s, z],
    attributes: { axis: attrs.int(spec.axis ?? 0) },
    outputs: [{ name: graph.uniqueName(`${weight.name}_dequantized`), type: tensorType('float32', weight.constant!.shape) }],
    before: node,
    name: `${node.name}_weight_dq`,
  });
  node.setInput(1, dq.output(0));
  return dq;
}

interface Mutation {
  readonly name: string;
  readonly model: string;
  /** Makes the mistake; returns what the verifier must name (node or value). */
  readonly mutate: (model: Model) => string;
  readonly code: string;
  readonly reason: RegExp;
}

const mutations: Mutation[] = [
  {
    name: 'stale types after replacing constant data (setConstant keeps the weight typed, not its consumers)',
    model: 'fashion-mlp',
    mutate: (model) => {
      const gemm = nodesOf(model, 'onnx.Gemm')[0]!;
      weightOf(gemm).setConstant(firstRows(weightOf(gemm).constant!, 64));
      gemm.inputs[2]!.setConstant(firstRows(gemm.inputs[2]!.constant!, 64));
      return gemm.name;
    },
    code: 'verify/declared-shape',
    reason: /output #0 '.*' is declared float32\[N,128\] but onnx.Gemm gives float32\[N,64\]/,
  },
  {
    name: "constant data replaced without its type (value.constant = …): the declared [128,784] is stale",
    model: 'fashion-mlp',
    mutate: (model) => {
      const weight = weightOf(nodesOf(model, 'onnx.Gemm')[0]!);
      weight.constant = firstRows(weight.constant!, 64);
      return weight.name;
    },
    code: 'verify/constant-type',
    reason: /constant 'fc1.weight' is declared float32\[128,784\] but its data is float32\[64,784\]/,
  },
  {
    name: 'int8 into Gemm',
    model: 'fashion-mlp',
    mutate: (model) => {
      const gemm = nodesOf(model, 'onnx.Gemm')[1]!;
      weightOf(gemm).setConstant(quantizePerChannel(weightOf(gemm).constant!).values);
      return gemm.name;
    },
    code: 'ops/type-constraint',
    reason: /input #1 'fc2.weight' \(B\) is int8, which Gemm-13's type T does not allow/,
  },
  {
    name: 'wrong rank: a Gemm weight of rank 3',
    model: 'fashion-mlp',
    mutate: (model) => {
      const gemm = nodesOf(model, 'onnx.Gemm')[2]!;
      weightOf(gemm).setConstant(weightOf(gemm).constant!.reshape([10, 64, 1]));
      return gemm.name;
    },
    code: 'ops/gemm-rank',
    reason: /B 'fc3.weight' has rank 3/,
  },
  {
    name: 'mismatched dims: a Gemm weight whose inner dimension no longer meets its input',
    model: 'fashion-mlp',
    mutate: (model) => {
      const gemm = nodesOf(model, 'onnx.Gemm')[2]!;
      const weight = weightOf(gemm).constant!;
      weightOf(gemm).setConstant(f32([10, 32], Array.from({ length: 320 }, (_, i) => readNumbers(weight)[Math.floor(i / 32) * 64 + (i % 32)]!)));
      return gemm.name;
    },
    code: 'ops/gemm-inner-dim',
    reason: /inner dimensions differ: A gives K = 64, B gives K = 32 \(transB\)/,
  },
  {
    name: 'a declared dtype that is not what the op computes (float64 over a float32 Relu)',
    model: 'fashion-mlp',
    mutate: (model) => {
      const relu = nodesOf(model, 'onnx.Relu')[0]!;
      const type = relu.output(0).type;
      relu.output(0).type = tensorType('float64', type.kind === 'tensor' ? type.shape : null);
      return relu.name;
    },
    code: 'verify/declared-type',
    reason: /is declared float64\[N,128\] but onnx.Relu gives float32\[N,128\]/,
  },
  {
    name: 'int8 into Conv',
    model: 'fashion-cnn',
    mutate: (model) => {
      const conv = nodesOf(model, 'onnx.Conv')[0]!;
      weightOf(conv).setConstant(quantizePerChannel(weightOf(conv).constant!).values);
      return conv.name;
    },
    code: 'ops/type-constraint',
    reason: /input #1 '.*' \(W\) is int8, which Conv-11's type T does not allow/,
  },
  {
    name: 'int8 into Conv of a third-party model (PaddleOCR direction classifier, opset 9)',
    model: 'ppocr-mobile-v2-cls',
    mutate: (model) => {
      const conv = nodesOf(model, 'onnx.Conv')[0]!;
      setWeight(model, conv, quantizePerChannel(weightData(conv)).values);
      return conv.name;
    },
    code: 'ops/type-constraint',
    reason: /\(W\) is int8, which Conv-1's type T does not allow/,
  },
  {
    name: 'mismatched dims: a Conv weight with the wrong input channel count (third-party model)',
    model: 'ppocr-mobile-v2-cls',
    mutate: (model) => {
      const conv = nodesOf(model, 'onnx.Conv').find((n) => n.attr('group', 'int', 1) === 1 && weightData(n).shape[1]! > 1)!;
      const [m, c, kh, kw] = weightData(conv).shape as [number, number, number, number];
      setWeight(model, conv, f32([m, c + 1, kh, kw], new Array<number>(m * (c + 1) * kh * kw).fill(0.01)));
      return conv.name;
    },
    code: 'ops/conv-channels',
    reason: /input has \d+ channels but the weight expects \d+ per group × 1 groups/,
  },
  {
    name: 'DequantizeLinear with 3 scales for a 32-channel weight',
    model: 'fashion-cnn',
    mutate: (model) => weightBehindDequantize(model, nodesOf(model, 'onnx.Conv')[1]!, { scaleLength: 3 }).name,
    code: 'ops/quant-scale-length',
    reason: /3 scales in '.*_scale' for axis 0 of size \d+/,
  },
  {
    name: 'DequantizeLinear with axis 5 on a rank-4 weight',
    model: 'fashion-cnn',
    mutate: (model) => weightBehindDequantize(model, nodesOf(model, 'onnx.Conv')[1]!, { axis: 5 }).name,
    code: 'ops/axis-range',
    reason: /axis 5 is out of range for input '.*' of rank 4/,
  },
  {
    name: 'DequantizeLinear with a float zero point',
    model: 'fashion-cnn',
    mutate: (model) => weightBehindDequantize(model, nodesOf(model, 'onnx.Conv')[1]!, { zeroPointDType: 'float32' }).name,
    code: 'ops/type-constraint',
    reason: /input #2 '.*_zero_point' \(x_zero_point\) is float32, which DequantizeLinear-13's type T does not allow/,
  },
  {
    name: 'DequantizeLinear with a uint8 zero point for int8 data',
    model: 'fashion-cnn',
    mutate: (model) => weightBehindDequantize(model, nodesOf(model, 'onnx.Conv')[1]!, { zeroPointDType: 'uint8' }).name,
    code: 'ops/type-constraint',
    reason: /input #2 '.*' \(x_zero_point\) is uint8 but type T is already int8 from input #0/,
  },
  {
    name: 'DequantizeLinear whose zero point has another shape than its scale',
    model: 'fashion-cnn',
    mutate: (model) => weightBehindDequantize(model, nodesOf(model, 'onnx.Conv')[1]!, { zeroPointLength: 4 }).name,
    code: 'ops/quant-parameter-shape',
    reason: /zero point '.*' has shape \[4\] but scale '.*' has \[\d+\]/,
  },
];

describe('controls: untouched and correctly mutated models verify clean and run in ONNX Runtime', () => {
  for (const id of ['fashion-mlp', 'fashion-cnn', 'ppocr-mobile-v2-cls']) {
    test(id, async () => {
      const { entry, model } = load(id);
      expect(errorsOf(model).map((d) => formatDiagnostic(d))).toEqual([]);
      expect(await ortRefusal(entry, model, `control-${id}`)).toBeUndefined();
    });
  }
  test('a per-channel DequantizeLinear weight that fits, and setConstant with consumers refreshed', async () => {
    const { entry, model } = load('fashion-cnn');
    weightBehindDequantize(model, nodesOf(model, 'onnx.Conv')[1]!);
    expect(errorsOf(model).map((d) => formatDiagnostic(d))).toEqual([]);
    expect(await ortRefusal(entry, model, 'control-dq')).toBeUndefined();
    const mlp = load('fashion-mlp');
    const [first, second] = nodesOf(mlp.model, 'onnx.Gemm');
    weightOf(first!).setConstant(firstRows(weightOf(first!).constant!, 64));
    first!.inputs[2]!.setConstant(firstRows(first!.inputs[2]!.constant!, 64));
    const w2 = weightOf(second!).constant!;
    weightOf(second!).setConstant(f32([64, 64], Array.from({ length: 64 * 64 }, (_, i) => readNumbers(w2)[Math.floor(i / 64) * 128 + (i % 64)]!)));
    expect(errorsOf(mlp.model).length).toBeGreaterThan(0);
    inferShapes(mlp.model, { registry, mode: 'refresh' });
    expect(errorsOf(mlp.model).map((d) => formatDiagnostic(d))).toEqual([]);
    expect(await ortRefusal(mlp.entry, mlp.model, 'control-pruned')).toBeUndefined();
  });
});

describe('every mutation: the verifier names it and ONNX Runtime refuses it', () => {
  for (const mutation of mutations) {
    test(`${mutation.model}: ${mutation.name}`, async () => {
      const { entry, model } = load(mutation.model);
      const culprit = mutation.mutate(model);
      const errors = errorsOf(model);
      const caught = errors.find((d) => d.code === mutation.code);
      expect(caught, `verifier errors: ${errors.map((d) => formatDiagnostic(d)).join('\n')}`).toBeDefined();
      expect(caught!.reason).toMatch(mutation.reason);
      expect(caught!.location?.node).toBe(culprit);
      expect(caught!.expected).toBeTruthy();
      expect(caught!.actual).toBeTruthy();
      const refusal = await ortRefusal(entry, model, mutation.name.replace(/[^a-z0-9]+/gi, '-'));
      expect(refusal, 'ONNX Runtime ran the mutated model').toBeDefined();
      console.log(`${mutation.model}: ${mutation.name}\n  verifier: ${formatDiagnostic(caught!).split('\n')[0]}\n  ORT: ${refusal}`);
    });
  }
});

describe('verify-each blames the pass that made the mistake', () => {
  test('a pass that shrinks a weight with setConstant and leaves the consumers typed as before fails with the located error', async () => {
    const shrink = definePass({
      name: 'shrink-first-layer',
      summary: 'Keeps half the first Gemm layer (forgets to refresh the types after it)',
      run(model) {
        mutations[0]!.mutate(model);
      },
    });
    const environment = new PassEnvironment({ passes: new PassRegistry([shrink], '@modelpass/test'), ops: registry });
    const { model } = load('fashion-mlp');
    const failure = await runPipeline(model, 'shrink-first-layer', { environment }).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(PassFailure);
    const text = (failure as PassFailure).diagnostics.map((d) => formatDiagnostic(d)).join('\n');
    expect(text).toMatch(/shrink-first-layer.*left the IR invalid/);
    expect(text).toMatch(/node '\/fc1\/Gemm' \(onnx.Gemm\).*is declared float32\[N,128\] but onnx.Gemm gives float32\[N,64\]/);
  });

  test('an input whose file declares a stale intermediate shape runs in ORT, so verify-each warns instead of refusing it', async () => {
    const { entry, model } = load('fashion-mlp');
    const relu = nodesOf(model, 'onnx.Relu')[0]!;
    relu.output(0).type = tensorType('float32', ['N', 100]);
    // The stale [N,100] also reaches the next Gemm's K check, which verify-each tolerates with it.
    expect(errorsOf(model).map((d) => d.code)).toEqual(['verify/declared-shape', 'ops/gemm-inner-dim']);
    expect(await ortRefusal(entry, model, 'stale-input-shape')).toBeUndefined();
    const noop = definePass({ name: 'noop', summary: 'Changes nothing', run: (_model, context) => context.preserveAll() });
    const environment = new PassEnvironment({ passes: new PassRegistry([noop], '@modelpass/test'), ops: registry });
    const warnings: Diagnostic[] = [];
    await runPipeline(model, 'noop', { environment, onDiagnostic: (d) => warnings.push(d) });
    expect(warnings.map((d) => [d.severity, d.code, d.location?.node])).toEqual([
      ['warning', 'verify/declared-shape', '/Relu'],
      ['warning', 'ops/gemm-inner-dim', '/fc2/Gemm'],
    ]);
    await expect(runPipeline(model, 'noop', { environment, verifyEach: { strictInput: true } })).rejects.toThrow(/declared float32\[N,100\] but onnx.Relu gives float32\[N,128\]/);
  });
});
