/**
 * The real-model corpus: third-party ONNX models from fixtures/third-party.json (fetched by
 * tools/fixtures/third-party.mjs) and the project's own fixtures (fixtures/models/<name>/model.onnx
 * with test_data_set_0). Helpers here build each model's feeds the same way every time (seeded,
 * following the manifest's testShape/fill), compare outputs bit for bit, and count ops.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Tensor, elementCount, isFloatDType, type DType, type Graph, type Model } from '@modelpass/ir';
import { kernelFor } from '@modelpass/ops';
import { generateInputs, loadTestDataSet } from '@modelpass/runtime';

/** The repository root (this file sits in packages/conformance/{src,dist}/). */
export const REPO_ROOT = resolve(fileURLToPath(new URL('../../../', import.meta.url)));
export const PROJECT_MODELS_DIR = join(REPO_ROOT, 'fixtures', 'models');

/** How a manifest input is filled (fixtures/third-party.json `inputs[].fill`). */
export interface RealModelFill {
  readonly kind: 'uniform' | 'zeros' | 'value';
  readonly low?: number;
  readonly high?: number;
  readonly value?: readonly number[];
}

/** One input as the third-party manifest describes it. */
export interface RealModelInputSpec {
  readonly name: string;
  readonly dtype: string;
  readonly testShape: readonly number[];
  readonly fill: RealModelFill;
}

/** New testShape or fill for named inputs of a third-party model. */
export type RealModelFeedOverrides = Readonly<Record<string, Partial<Pick<RealModelInputSpec, 'testShape' | 'fill'>>>>;

/** A model of the corpus: where it is and how to feed it. */
export interface RealOnnxModel {
  readonly id: string;
  readonly origin: 'third-party' | 'project';
  readonly path: string;
  /** Manifest input specs (third-party models). */
  readonly inputs?: readonly RealModelInputSpec[];
  /** An ONNX test data set folder (project fixtures): its inputs are the feeds. */
  readonly testDataDir?: string;
}

/** Third-party manifest entries (as `ensureThirdPartyModels` returns them) as corpus models. */
export function thirdPartyOnnxModels(entries: readonly { id: string; path: string; format: string; inputs: readonly RealModelInputSpec[] }[]): RealOnnxModel[] {
  return entries.filter((e) => e.format === 'onnx').map((e) => ({ id: e.id, origin: 'third-party', path: e.path, inputs: e.inputs }));
}

/** The project's fixtures: every fixtures/models/<name>/ with a model.onnx. Throws when there are none. */
export function projectOnnxModels(dir = PROJECT_MODELS_DIR): RealOnnxModel[] {
  const models: RealOnnxModel[] = [];
  for (const name of existsSync(dir) ? readdirSync(dir).sort() : []) {
    const path = join(dir, name, 'model.onnx');
    if (!existsSync(path)) continue;
    const testDataDir = join(dir, name, 'test_data_set_0');
    models.push({ id: name, origin: 'project', path, ...(existsSync(testDataDir) ? { testDataDir } : {}) });
  }
  if (models.length === 0) throw new Error(`no project ONNX fixtures under ${dir} (fixtures/models/<name>/model.onnx)`);
  return models;
}

function filledTensor(spec: RealModelInputSpec, model: RealOnnxModel): Tensor {
  const dtype = spec.dtype as DType;
  const count = elementCount(spec.testShape);
  if (spec.fill.kind === 'zeros') {
    return Tensor.fromValues(dtype, spec.testShape, dtype === 'int64' || dtype === 'uint64' ? new Array<bigint>(count).fill(0n) : new Array<number>(count).fill(0));
  }
  const values = spec.fill.value ?? [];
  if (values.length !== count) {
    throw new Error(`${model.id}: input '${spec.name}' fill lists ${values.length} values, shape [${spec.testShape.join(',')}] needs ${count}`);
  }
  return Tensor.fromValues(dtype, spec.testShape, dtype === 'int64' || dtype === 'uint64' ? values.map((v) => BigInt(v)) : values);
}

/**
 * The feeds for `corpusModel` (already imported as `model`): the test data set's inputs for
 * project fixtures; for third-party models, one tensor per manifest input, uniform ones drawn
 * with `seed` (by runtime's `generateInputs`, at the manifest's testShape and range), zeros and
 * fixed values as the manifest says. `overrides` replace the testShape or fill of named inputs
 * (e.g. another sample rate), for third-party models.
 */
export function realModelFeeds(
  corpusModel: RealOnnxModel,
  model: Model,
  seed = 0,
  overrides: RealModelFeedOverrides = {},
): Map<string, Tensor> {
  if (corpusModel.testDataDir && Object.keys(overrides).length === 0) return loadTestDataSet(corpusModel.testDataDir, model).inputs;
  const unknown = Object.keys(overrides).filter((name) => !(corpusModel.inputs ?? []).some((s) => s.name === name));
  if (unknown.length > 0) throw new Error(`${corpusModel.id}: overrides name inputs the manifest does not describe: ${unknown.join(', ')}`);
  const specs = (corpusModel.inputs ?? []).map((s) => ({ ...s, ...overrides[s.name] }));
  const uniform = specs.filter((s) => s.fill.kind === 'uniform');
  const generated = generateInputs(model, {
    seed,
    shapes: Object.fromEntries(specs.map((s) => [s.name, s.testShape])),
    ranges: Object.fromEntries(uniform.map((s) => [s.name, [s.fill.low ?? -1, s.fill.high ?? 1] as const])),
  });
  const feeds = new Map<string, Tensor>();
  for (const input of model.graph.inputs) {
    if (input.constant) continue;
    const spec = specs.find((s) => s.name === input.name);
    if (!spec) throw new Error(`${corpusModel.id}: the manifest does not describe input '${input.name}'`);
    feeds.set(input.name, spec.fill.kind === 'uniform' ? generated.get(input.name)! : filledTensor(spec, corpusModel));
  }
  return feeds;
}

/** Expected outputs shipped with a project fixture (output_N files), if any. */
export function realModelExpectedOutputs(corpusModel: RealOnnxModel, model: Model): Map<string, Tensor> | undefined {
  return corpusModel.testDataDir ? loadTestDataSet(corpusModel.testDataDir, model).outputs : undefined;
}

function isNaNAt(dtype: DType, bytes: Uint8Array, index: number): boolean {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  switch (dtype) {
    case 'float32':
      return Number.isNaN(view.getFloat32(index * 4, true));
    case 'float64':
      return Number.isNaN(view.getFloat64(index * 8, true));
    case 'float16': {
      const bits = view.getUint16(index * 2, true);
      return (bits & 0x7c00) === 0x7c00 && (bits & 0x3ff) !== 0;
    }
    case 'bfloat16': {
      const bits = view.getUint16(index * 2, true);
      return (bits & 0x7f80) === 0x7f80 && (bits & 0x7f) !== 0;
    }
    default:
      return false;
  }
}

/** Undefined when two tensors are identical bit for bit (any NaN equals any NaN), else what differs. */
export function tensorsBitIdentical(expected: Tensor, actual: Tensor): string | undefined {
  if (expected.dtype !== actual.dtype) return `dtype ${expected.dtype} vs ${actual.dtype}`;
  if (expected.shape.length !== actual.shape.length || expected.shape.some((d, i) => d !== actual.shape[i])) {
    return `shape [${expected.shape.join(',')}] vs [${actual.shape.join(',')}]`;
  }
  if (expected.dtype === 'string') {
    const a = expected.strings ?? [];
    const b = actual.strings ?? [];
    const index = a.findIndex((s, i) => s !== b[i]);
    return index < 0 ? undefined : `string element ${index} differs`;
  }
  const a = expected.bytes();
  const b = actual.bytes();
  if (a.byteLength !== b.byteLength) return `byte length ${a.byteLength} vs ${b.byteLength}`;
  if (Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength))) return undefined;
  const count = elementCount(expected.shape);
  const size = count === 0 ? 1 : a.byteLength / count;
  let differing = 0;
  let first = -1;
  for (let i = 0; i < count; i++) {
    let same = true;
    for (let k = i * size; k < (i + 1) * size; k++) if (a[k] !== b[k]) same = false;
    if (same) continue;
    if (isFloatDType(expected.dtype) && isNaNAt(expected.dtype, a, i) && isNaNAt(expected.dtype, b, i)) continue;
    differing++;
    if (first < 0) first = i;
  }
  return differing === 0 ? undefined : `${differing} of ${count} elements differ (first at flat index ${first})`;
}

/** Undefined when both output maps hold the same names with bit-identical tensors, else the first difference. */
export function outputsBitIdentical(expected: ReadonlyMap<string, Tensor>, actual: ReadonlyMap<string, Tensor>): string | undefined {
  if (expected.size !== actual.size) return `output count ${expected.size} vs ${actual.size}`;
  for (const [name, tensor] of expected) {
    const other = actual.get(name);
    if (!other) return `output '${name}' missing`;
    const difference = tensorsBitIdentical(tensor, other);
    if (difference) return `output '${name}': ${difference}`;
  }
  return undefined;
}

/** How many nodes of each op the model has, subgraphs (If/Loop bodies) included. */
export function opCounts(model: Model): Map<string, number> {
  const counts = new Map<string, number>();
  const visit = (graph: Graph): void => {
    for (const node of graph.nodes()) {
      counts.set(node.op, (counts.get(node.op) ?? 0) + 1);
      for (const subgraph of node.subgraphs) visit(subgraph);
    }
  };
  visit(model.graph);
  return counts;
}

/** Ops of the model (subgraphs included) that have no reference kernel and no model-local function, sorted. */
export function opsWithoutKernel(model: Model): string[] {
  return [...opCounts(model).keys()].filter((op) => !kernelFor(op) && !model.functions.some((fn) => `${fn.dialect}.${fn.name}` === op)).sort();
}

/** Size of a file in bytes. */
export function fileSize(path: string): number {
  return statSync(path).size;
}

/** A plain-text table with right-aligned numeric columns, for test logs. */
export function formatTable(headers: readonly string[], rows: readonly (readonly (string | number)[])[]): string {
  const cells = [headers, ...rows.map((row) => row.map(String))];
  const widths = headers.map((_, c) => Math.max(...cells.map((row) => (row[c] ?? '').length)));
  const numeric = headers.map((_, c) => rows.length > 0 && rows.every((row) => typeof row[c] === 'number'));
  const line = (row: readonly string[]) => row.map((cell, c) => (numeric[c] ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!))).join('  ').trimEnd();
  return [line(cells[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(line)].join('\n');
}
