// The reference interpreter and shape inference of @modelpass/ops on the real-model corpus, with
// ONNX Runtime as the referee: `runReference` outputs must match ORT's within rtol 1e-3 / atol 1e-4,
// and `inferShapes`, given only the concrete input shapes, must infer ORT's output shapes. Models
// that use ops without a reference kernel, and outputs whose shape is not fully inferred, are listed
// in src/real-models-known-gaps.ts; the test fails when either list would have to grow.
import { afterAll, describe, expect, test } from 'vitest';
import { Tensor, UNKNOWN_TYPE, formatType, tensorType, type Graph, type Model, type Type } from '@modelpass/ir';
import { readOnnx } from '@modelpass/onnx';
import { inferShapes, runReference } from '@modelpass/ops';
import { OrtRunner, compareOutputs } from '@modelpass/runtime';
import {
  KNOWN_INCOMPLETE_SHAPES,
  KNOWN_MISSING_KERNELS,
  REAL_MODEL_FEED_SETS,
  type RealModelFeedOverrides,
  formatTable,
  opsWithoutKernel,
  projectOnnxModels,
  realModelExpectedOutputs,
  realModelFeeds,
  thirdPartyOnnxModels,
  type RealOnnxModel,
} from '@modelpass/conformance';
import { ensureThirdPartyModels } from '../../../../tools/fixtures/third-party.mjs';

const TOLERANCE = { rtol: 1e-3, atol: 1e-4 };

const corpus: RealOnnxModel[] = [...thirdPartyOnnxModels(await ensureThirdPartyModels({ format: 'onnx' })), ...projectOnnxModels()];
const ort = new OrtRunner({ maxSessions: 2 });

interface ReferenceRow {
  missing: string;
  maxAbsError: string;
  withinTolerance: string;
  seconds: string;
  shapes: string;
}
const rows = new Map<string, ReferenceRow>(corpus.map((m) => [m.id, { missing: '', maxAbsError: '', withinTolerance: '', seconds: '', shapes: '' }]));
const notes: string[] = [];

afterAll(async () => {
  await ort.dispose();
  const table = formatTable(
    ['model', 'ops without kernel', 'max abs error vs ORT', 'within tol', 'ref seconds', 'output shapes exact (all input sets)'],
    corpus.map((m) => {
      const row = rows.get(m.id)!;
      return [m.id, row.missing || '-', row.maxAbsError, row.withinTolerance, row.seconds, row.shapes];
    }),
  );
  console.log(`reference interpreter and inferShapes vs ONNX Runtime (rtol ${TOLERANCE.rtol}, atol ${TOLERANCE.atol})\n${table}`);
  if (notes.length > 0) console.log(notes.join('\n'));
});

/** Every node output (subgraphs included) loses its type, so inference starts from the inputs alone. */
function eraseNodeOutputTypes(graph: Graph): void {
  for (const node of graph.nodes()) {
    for (const output of node.outputs) if (output) output.type = UNKNOWN_TYPE;
    for (const subgraph of node.subgraphs) eraseNodeOutputTypes(subgraph);
  }
}

type ShapeVerdict = 'exact' | 'incomplete' | 'wrong';

/** How an inferred type compares with the tensor ORT returned. */
function shapeVerdict(inferred: Type, actual: Tensor): ShapeVerdict {
  if (inferred.kind !== 'tensor') return inferred.kind === 'unknown' ? 'incomplete' : 'wrong';
  if (inferred.dtype !== actual.dtype) return 'wrong';
  if (inferred.shape === null) return 'incomplete';
  if (inferred.shape.length !== actual.rank) return 'wrong';
  let complete = true;
  for (let axis = 0; axis < actual.rank; axis++) {
    const dim = inferred.shape[axis];
    if (typeof dim === 'number') {
      if (dim !== actual.shape[axis]) return 'wrong';
    } else complete = false;
  }
  return complete ? 'exact' : 'incomplete';
}

function asTensors(model: RealOnnxModel, outputs: ReadonlyMap<string, unknown>): Map<string, Tensor> {
  const tensors = new Map<string, Tensor>();
  for (const [name, value] of outputs) {
    if (!(value instanceof Tensor)) throw new Error(`${model.id}: reference output '${name}' is not a tensor`);
    tensors.set(name, value);
  }
  return tensors;
}

function feedsAndModel(corpusModel: RealOnnxModel, overrides: RealModelFeedOverrides = {}): { model: Model; feeds: Map<string, Tensor> } {
  const model = readOnnx(corpusModel.path);
  return { model, feeds: realModelFeeds(corpusModel, model, 0, overrides) };
}

describe.each(corpus.map((m) => [m.id, m] as const))('%s', (id, corpusModel) => {
  const row = rows.get(id)!;

  test('runReference matches ONNX Runtime, or the model is a known kernel gap', async () => {
    const { model, feeds } = feedsAndModel(corpusModel);
    const missing = opsWithoutKernel(model);
    const known = KNOWN_MISSING_KERNELS[id] ?? [];
    row.missing = missing.join(', ');
    const closed = known.filter((op) => !missing.includes(op));
    if (closed.length > 0) notes.push(`${id}: ${closed.join(', ')} now have kernels; remove them from KNOWN_MISSING_KERNELS`);
    expect(missing.filter((op) => !known.includes(op)), `${id}: ops without a reference kernel that are not known gaps`).toEqual([]);
    if (missing.length > 0) {
      row.maxAbsError = 'not run';
      row.withinTolerance = '-';
      row.seconds = '-';
      return;
    }
    const expected = await ort.run(corpusModel.path, feeds);
    const started = performance.now();
    const actual = asTensors(corpusModel, runReference(model, feeds));
    row.seconds = ((performance.now() - started) / 1000).toFixed(2);
    const report = compareOutputs(expected, actual, TOLERANCE);
    row.maxAbsError = report.maxAbsError.toExponential(2);
    row.withinTolerance = report.withinTolerance ? 'yes' : 'NO';
    const failing = report.perOutput.filter((o) => !o.withinTolerance).map((o) => `${o.name}: max abs ${o.maxAbsError}, ${o.mismatchedElements} of ${o.elementCount} elements out of tolerance`);
    expect(report.missingOutputs).toEqual([]);
    expect(failing).toEqual([]);

    // Project fixtures carry the outputs torch computed: ORT agrees with them (default tolerances).
    const shipped = realModelExpectedOutputs(corpusModel, model);
    if (shipped) expect(compareOutputs(shipped, expected).withinTolerance, `${id}: ORT vs the test data set's outputs`).toBe(true);
  }, 60_000);

  test('inferShapes, from the input shapes alone, gives ORT output shapes (or a known gap), for every input set', async () => {
    const known = KNOWN_INCOMPLETE_SHAPES[id] ?? {};
    const wrong: string[] = [];
    const unexpectedGaps: string[] = [];
    let exact = 0;
    let total = 0;
    const gapSets = new Map<string, string[]>(); // output -> input sets where it is a known gap
    const feedSets = [{ label: 'default', overrides: {} }, ...(REAL_MODEL_FEED_SETS[id] ?? [])];
    for (const { label, overrides } of feedSets) {
      const { model, feeds } = feedsAndModel(corpusModel, overrides);
      const expected = await ort.run(corpusModel.path, feeds);
      for (const input of model.graph.inputs) {
        const feed = feeds.get(input.name);
        if (feed) input.type = tensorType(feed.dtype, feed.shape);
      }
      eraseNodeOutputTypes(model.graph);
      inferShapes(model);
      for (const output of model.graph.outputs) {
        total++;
        const actual = expected.get(output.name)!;
        const description = `${output.name} (${label}): inferred ${formatType(output.type)}, ORT ${actual.dtype}[${actual.shape.join(',')}]`;
        const verdict = shapeVerdict(output.type, actual);
        if (!gapSets.has(output.name)) gapSets.set(output.name, []);
        if (verdict === 'exact') exact++;
        else if (verdict === 'wrong') wrong.push(description);
        else if (known[output.name]) gapSets.get(output.name)!.push(description.slice(output.name.length + 1));
        else unexpectedGaps.push(description);
      }
    }
    for (const [name, gaps] of gapSets) {
      if (!known[name]) continue;
      notes.push(gaps.length === 0 ? `${id}: ${name} is now inferred exactly for every input set; remove it from KNOWN_INCOMPLETE_SHAPES` : `${id}: known gap ${name}: ${gaps.join('; ')}`);
    }
    row.shapes = `${exact}/${total}`;
    expect(wrong, `${id}: inferred shapes that contradict ORT`).toEqual([]);
    expect(unexpectedGaps, `${id}: output shapes not inferred that are not known gaps`).toEqual([]);
  }, 60_000);
});
