/**
 * ONNX's own node conformance cases (libonnx-testdata) run through the reference interpreter of
 * @modelpass/ops, for every case that uses an nn-family op. Each case's model is read with
 * @modelpass/onnx, run whole with `runReference` (math-family ops it contains run too), and compared
 * to the expected outputs: floats within rtol 1e-3 / atol 1e-5 (`|actual - expected| <= atol +
 * rtol * |expected|`, NaN matches NaN), integers, bools and strings exactly. Separately, the output
 * types are erased and recomputed with `inferShapes`, and every inferred static dim must equal the
 * expected output's dim.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Tensor, UNKNOWN_TYPE, type Graph, type Model, type Type } from '@modelpass/ir';
import { readOnnx, decodeOnnxDataValue, type OnnxDataValue } from '@modelpass/onnx';
import { inferShapes, kernelFor, runReference, type RuntimeValue } from '@modelpass/ops';
import { describe, expect, it } from 'vitest';

const NODE_CASES = '/usr/share/libonnx-testdata/data/node';
const RTOL = 1e-3;
const ATOL = 1e-5;

/** The nn-family ops (the cases that use at least one of them are this test's corpus). */
const NN_OPS = new Set(
  (
    'Conv ConvTranspose MaxPool AveragePool GlobalAveragePool GlobalMaxPool LpPool BatchNormalization InstanceNormalization ' +
    'LayerNormalization GroupNormalization LRN MatMul Gemm MatMulInteger ConvInteger QLinearConv QLinearMatMul Dropout Flatten ' +
    'Reshape Transpose Squeeze Unsqueeze Concat Split Slice Gather GatherElements GatherND ScatterND ScatterElements Pad Resize ' +
    'Upsample Expand Tile Shape Size ConstantOfShape Constant Identity Range NonZero TopK OneHot Trilu DepthToSpace SpaceToDepth ' +
    'If Loop SequenceEmpty SequenceConstruct SequenceAt SequenceInsert SequenceErase SequenceLength SplitToSequence ConcatFromSequence'
  )
    .split(' ')
    .map((op) => `onnx.${op}`),
);

/**
 * Cases we expect to fail, with the reason. The test fails when one of them starts passing (so the
 * list shrinks) or when any other case fails.
 */
const RANDOM_DROPOUT = 'training-mode Dropout draws a random mask (numpy seed in the expected data); the reference kernel refuses it';
const KNOWN_FAILURES: Record<string, string> = {
  test_training_dropout: RANDOM_DROPOUT,
  test_training_dropout_default: RANDOM_DROPOUT,
  test_training_dropout_default_mask: RANDOM_DROPOUT,
  test_training_dropout_mask: RANDOM_DROPOUT,
};

function opsOf(graph: Graph, into = new Set<string>()): Set<string> {
  for (const node of graph.allNodes()) into.add(node.op);
  return into;
}

function toRuntime(value: OnnxDataValue): RuntimeValue {
  switch (value.kind) {
    case 'tensor':
      return value.tensor;
    case 'sequence':
      return value.elements.map((element) => {
        const runtime = toRuntime(element);
        if (!(runtime instanceof Tensor)) throw new Error('nested sequences are not supported');
        return runtime;
      });
    case 'optional':
      return value.value === null ? null : toRuntime(value.value);
    default:
      throw new Error(`${value.kind} values are not supported by the reference interpreter`);
  }
}

function readValue(path: string, type: Type): RuntimeValue {
  return toRuntime(decodeOnnxDataValue(readFileSync(path), type));
}

function compareTensor(actual: Tensor, expected: Tensor): string | undefined {
  if (actual.dtype !== expected.dtype) return `dtype ${actual.dtype}, expected ${expected.dtype}`;
  if (actual.shape.join(',') !== expected.shape.join(',')) return `shape [${actual.shape}], expected [${expected.shape}]`;
  if (expected.dtype === 'string') return actual.equals(expected) ? undefined : 'strings differ';
  const a = actual.data() as ArrayLike<number | bigint>;
  const e = expected.data() as ArrayLike<number | bigint>;
  const float = ['float32', 'float64', 'float16', 'bfloat16'].includes(expected.dtype);
  for (let i = 0; i < e.length; i++) {
    const x = a[i]!;
    const y = e[i]!;
    if (float) {
      const [xn, yn] = [Number(x), Number(y)];
      if (Number.isNaN(xn) && Number.isNaN(yn)) continue;
      if (xn === yn) continue;
      if (!(Math.abs(xn - yn) <= ATOL + RTOL * Math.abs(yn))) return `element ${i}: ${xn}, expected ${yn}`;
    } else if (x !== y) {
      return `element ${i}: ${x}, expected ${y}`;
    }
  }
  return undefined;
}

function compareValue(actual: RuntimeValue | undefined, expected: RuntimeValue): string | undefined {
  if (expected === null) return actual === null ? undefined : 'expected an absent optional';
  if (actual === null || actual === undefined) return 'no value';
  if (expected instanceof Tensor) return actual instanceof Tensor ? compareTensor(actual, expected) : 'a sequence, expected a tensor';
  if (actual instanceof Tensor) return 'a tensor, expected a sequence';
  if (actual.length !== expected.length) return `sequence of ${actual.length}, expected ${expected.length}`;
  for (let i = 0; i < expected.length; i++) {
    const problem = compareTensor(actual[i]!, expected[i]!);
    if (problem) return `sequence element ${i}: ${problem}`;
  }
  return undefined;
}

/** Erases every inferred type (node outputs), runs inferShapes, checks static dims against the expected outputs. */
function checkInference(model: Model, expected: readonly RuntimeValue[]): string | undefined {
  const erase = (graph: Graph) => {
    for (const node of graph.allNodes()) for (const output of node.outputs) if (output) output.type = UNKNOWN_TYPE;
  };
  erase(model.graph);
  inferShapes(model);
  for (let i = 0; i < expected.length; i++) {
    const want = expected[i];
    const got = model.graph.outputs[i]!.type;
    if (!(want instanceof Tensor)) continue;
    if (got.kind !== 'tensor') return `output #${i}: nothing inferred`;
    if (got.dtype !== want.dtype) return `output #${i}: dtype ${got.dtype}, expected ${want.dtype}`;
    if (got.shape === null) continue;
    if (got.shape.length !== want.rank) return `output #${i}: rank ${got.shape.length}, expected ${want.rank}`;
    for (let d = 0; d < want.rank; d++) {
      const dim = got.shape[d];
      if (typeof dim === 'number' && dim !== want.shape[d]) return `output #${i}: dim ${d} is ${dim}, expected ${want.shape[d]}`;
    }
  }
  return undefined;
}

interface Outcome {
  name: string;
  status: 'passed' | 'failed' | 'skipped';
  reason?: string;
  inference?: string;
}

function runCase(name: string): Outcome {
  const dir = join(NODE_CASES, name);
  let model: Model;
  try {
    model = readOnnx(join(dir, 'model.onnx'));
  } catch (error) {
    return { name, status: 'skipped', reason: `import failed: ${(error as Error).message.split('\n')[0]}` };
  }
  const ops = opsOf(model.graph);
  if (![...ops].some((op) => NN_OPS.has(op))) return { name, status: 'skipped', reason: 'no nn op' };
  const missing = [...ops].filter((op) => !kernelFor(op) && !model.findFunction(op.slice(0, op.lastIndexOf('.')), op.slice(op.lastIndexOf('.') + 1)));
  if (missing.length > 0) return { name, status: 'skipped', reason: `no kernel for ${missing.join(', ')}` };
  const dataDir = join(dir, 'test_data_set_0');
  const feeds = new Map<string, RuntimeValue>();
  const inputs = model.graph.inputs;
  for (let i = 0; existsSync(join(dataDir, `input_${i}.pb`)); i++) {
    const input = inputs[i];
    if (!input) return { name, status: 'failed', reason: `input_${i}.pb has no graph input` };
    feeds.set(input.name, readValue(join(dataDir, `input_${i}.pb`), input.type));
  }
  const expected = model.graph.outputs.map((output, i) => readValue(join(dataDir, `output_${i}.pb`), output.type));
  let actual: Map<string, RuntimeValue>;
  try {
    actual = runReference(model, feeds);
  } catch (error) {
    return { name, status: 'failed', reason: (error as Error).message.split('\n')[0] };
  }
  for (let i = 0; i < expected.length; i++) {
    const problem = compareValue(actual.get(model.graph.outputs[i]!.name), expected[i]!);
    if (problem) return { name, status: 'failed', reason: `output #${i} '${model.graph.outputs[i]!.name}': ${problem}` };
  }
  const inference = checkInference(model, expected);
  return { name, status: 'passed', ...(inference ? { inference } : {}) };
}

describe('ONNX node conformance cases through the reference interpreter (nn family)', () => {
  const available = existsSync(NODE_CASES);

  it.skipIf(!available)('runs every case that uses an nn op', () => {
    const cases = readdirSync(NODE_CASES).filter((name) => existsSync(join(NODE_CASES, name, 'model.onnx')));
    const outcomes = cases.map(runCase);
    const relevant = outcomes.filter((o) => o.reason !== 'no nn op');
    const passed = relevant.filter((o) => o.status === 'passed');
    const failed = relevant.filter((o) => o.status === 'failed');
    const skipped = relevant.filter((o) => o.status === 'skipped');
    const inferenceProblems = passed.filter((o) => o.inference);
    const lines = [
      `nn conformance: ${cases.length} node cases found, ${relevant.length} use nn ops (or failed to import)`,
      `  passed ${passed.length}, failed ${failed.length}, skipped ${skipped.length} (rtol ${RTOL}, atol ${ATOL})`,
      `  shape inference: ${passed.length - inferenceProblems.length}/${passed.length} passed cases have outputs consistent with inferred types`,
      ...failed.map((o) => `  FAIL${o.name in KNOWN_FAILURES ? ' (known)' : ''} ${o.name}: ${o.reason}`),
      ...skipped.map((o) => `  SKIP ${o.name}: ${o.reason}`),
      ...inferenceProblems.map((o) => `  INFER ${o.name}: ${o.inference}`),
    ];
    console.log(lines.join('\n'));
    const unexpected = failed.filter((o) => !(o.name in KNOWN_FAILURES)).map((o) => `${o.name}: ${o.reason}`);
    const fixed = Object.keys(KNOWN_FAILURES).filter((name) => passed.some((o) => o.name === name));
    expect(unexpected).toEqual([]);
    expect(fixed).toEqual([]);
    expect(inferenceProblems.map((o) => `${o.name}: ${o.inference}`)).toEqual([]);
    expect(passed.length).toBeGreaterThan(100);
  }, 300_000);
});
