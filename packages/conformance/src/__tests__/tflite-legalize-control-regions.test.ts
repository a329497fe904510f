/**
 * legalize-tflite on If/Loop that depend on run-time data: TFLite IF and WHILE with regions
 * (rules/control-flow-regions.ts). Judged by the TFLite runtime (TFLite 2.9) against ONNX Runtime on
 * the original model, within 1e-4, for several run-time values; every node of every subgraph must be
 * a tflite op, and the IF/WHILE must be there (not unrolled or selected). The written .tflite, read
 * and raised back (WHILE → Loop, IF → If), must agree in ONNX Runtime too.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { attrs, Graph, GraphBuilder, ModelpassError, Tensor, tensorType, type DType, type Model, type Value } from '@modelpass/ir';
import { readOnnx } from '@modelpass/onnx';
import { createOpRegistry, inferShapes } from '@modelpass/ops';
import { disposeSharedOrtRunner, runOrt, TfliteEngine } from '@modelpass/runtime';
import { REPO_ROOT } from '@modelpass/conformance';
import { raiseFromTflite, readTflite, registerTfliteDialect, writeTflite } from '@modelpass/tflite';
import { expectRefused, legalize, maxAbsDifference, seededTensor } from './tflite-legalize-harness.js';

const workDir = mkdtempSync(join(tmpdir(), 'modelpass-control-regions-'));
afterAll(async () => {
  rmSync(workDir, { recursive: true, force: true });
  await disposeSharedOrtRunner();
});

const engine = new TfliteEngine();
const scalarI64 = (value: number): Tensor => Tensor.fromValues('int64', [], [BigInt(value)]);
const i64 = (values: number[]): Tensor => Tensor.fromValues('int64', [values.length], values.map((v) => BigInt(v)));
const f32 = (value: number): Tensor => Tensor.scalar('float32', value);

/** A body graph whose inputs are given as [name, dtype, shape]; outer values are read by closure. */
function body(name: string, inputs: [string, DType, number[]][], build: (b: GraphBuilder, values: Value[]) => Value[]): Graph {
  const b = new GraphBuilder(new Graph(name));
  const values = inputs.map(([input, dtype, shape]) => b.input(input, tensorType(dtype, shape)));
  b.output(...build(b, values));
  return b.graph;
}

/** Prefixes the values of every nested graph with its graph's name: bodies built by their own builders reuse names, and ONNX wants them unique across scopes. */
function uniqueAcrossScopes(graph: Graph): void {
  for (const node of graph.nodes()) {
    for (const sub of node.subgraphs) {
      for (const value of [...sub.definedValues()]) value.rename(`${sub.name}__${value.name}`);
      uniqueAcrossScopes(sub);
    }
  }
}

function finish(b: GraphBuilder, outputs: Value[], opset = 17): Model {
  uniqueAcrossScopes(b.graph);
  b.output(...outputs);
  const model = b.model({ onnx: opset });
  inferShapes(model, { mode: 'refresh' });
  return model;
}

/** Every op of the model, in every subgraph. */
function allOps(model: Model): string[] {
  return [...model.graph.allNodes()].map((node) => node.op);
}

/**
 * Legalizes a copy of `make()`, checks it is all tflite ops with the `expected` control-flow ops, and
 * runs it in TFLite against ORT on the original for each feed set.
 */
async function expectMatches(make: () => Model, feedSets: readonly Record<string, Tensor>[], expected: readonly string[]): Promise<Model> {
  const original = make();
  const converted = make();
  await legalize(converted, 'optimize=false');
  const ops = allOps(converted);
  expect(ops.filter((op) => !op.startsWith('tflite.'))).toEqual([]);
  for (const op of expected) expect(ops).toContain(op);
  // And back: the .tflite read and raised to ONNX (WHILE → Loop, IF → If) runs in ONNX Runtime.
  const file = join(workDir, `${original.graph.outputs[0]!.name}-${Math.random().toString(36).slice(2)}.tflite`);
  writeTflite(converted, file);
  const raised = readTflite(file);
  raiseFromTflite(raised, registerTfliteDialect(createOpRegistry()), { opset: 17 });
  expect(allOps(raised).filter((op) => !op.startsWith('onnx.'))).toEqual([]);
  for (const feeds of feedSets) {
    const want = await runOrt(original, feeds);
    const describeFeeds = JSON.stringify(Object.fromEntries(Object.entries(feeds).map(([k, v]) => [k, v.toNumbers().slice(0, 4)])));
    for (const [what, candidate, got] of [
      ['TFLite', converted, await engine.run(converted, feeds)],
      ['raised, in ORT', raised, await runOrt(raised, feeds)],
    ] as const) {
      original.graph.outputs.forEach((output, index) => {
        const actual = got.get(candidate.graph.outputs[index]!.name);
        expect(actual, `${what}: output ${output.name}`).toBeDefined();
        expect(maxAbsDifference(want.get(output.name)!, actual!), `${what}: output ${output.name} with ${describeFeeds}`).toBeLessThanOrEqual(1e-4);
      });
    }
  }
  return converted;
}

const x23 = seededTensor([2, 3], 5);

/** v ← v·0.5 + x·(i+1) for `trips` (a graph input) iterations; scan output v·v (one row per iteration). */
function runtimeTripsLoop(): Model {
  const b = new GraphBuilder();
  const x = b.input('x', tensorType('float32', [2, 3]));
  const trips = b.input('trips', tensorType('int64', []));
  const loopBody = body('sum_body', [['i', 'int64', []], ['cond', 'bool', []], ['v', 'float32', [2, 3]]], (inner, [i, cond, v]) => {
    const step = inner.op1('onnx.Cast', [inner.op1('onnx.Add', [i!, inner.constant(scalarI64(1))])], { to: attrs.int(1) });
    const next = inner.op1('onnx.Add', [inner.op1('onnx.Mul', [v!, inner.constant(f32(0.5))]), inner.op1('onnx.Mul', [x, step])]);
    return [cond!, next, inner.op1('onnx.Mul', [next, next])];
  });
  const [sum, squares] = b.op('onnx.Loop', [trips, null, b.constant(seededTensor([2, 3], 31))], { body: attrs.graph(loopBody) }, { outputs: 2, name: 'runtime_trips_loop' });
  return finish(b, [sum!, squares!]);
}

/** A constant trip count too big to unroll (6,000 iterations × 4 nodes > 20,000): v ← v·0.999 + 0.001·i, every v as a scan output. */
function longConstantLoop(): Model {
  const b = new GraphBuilder();
  const x = b.input('x', tensorType('float32', [3]));
  const loopBody = body('long_body', [['i', 'int64', []], ['cond', 'bool', []], ['v', 'float32', [3]]], (inner, [i, cond, v]) => {
    const step = inner.op1('onnx.Mul', [inner.op1('onnx.Cast', [i!], { to: attrs.int(1) }), inner.constant(f32(0.001))]);
    const next = inner.op1('onnx.Add', [inner.op1('onnx.Mul', [v!, inner.constant(f32(0.999))]), step]);
    return [cond!, next, next];
  });
  const [last, all] = b.op('onnx.Loop', [b.constant(scalarI64(6_000)), null, x], { body: attrs.graph(loopBody) }, { outputs: 2, name: 'long_loop' });
  return finish(b, [last!, all!]);
}

/** Doubles v while its sum stays under `limit` (a graph input), at most 20 times (constant M), or M = INT64_MAX (torch's `while`), or no M; scan output of the running sum. */
function conditionLoop(tripCount: 'twenty' | 'int64-max' | 'none'): Model {
  const b = new GraphBuilder();
  const x = b.input('x', tensorType('float32', [2, 3]));
  const limit = b.input('limit', tensorType('float32', []));
  const loopBody = body('grow_body', [['i', 'int64', []], ['cond', 'bool', []], ['v', 'float32', [2, 3]]], (inner, [, , v]) => {
    const next = inner.op1('onnx.Add', [inner.op1('onnx.Mul', [v!, inner.constant(f32(2))]), inner.constant(f32(0.25))]);
    const total = inner.op1('onnx.ReduceSum', [next, inner.constant(i64([0, 1]))], { keepdims: attrs.int(0) });
    return [inner.op1('onnx.Less', [total, limit]), next, total];
  });
  // Outer names differ from the body's (ONNX Runtime wants one SSA namespace across scopes).
  const start = b.op1('onnx.Abs', [x], {}, { outputs: ['start'] });
  const firstTotal = b.op1('onnx.ReduceSum', [start, b.constant(i64([0, 1]))], { keepdims: attrs.int(0) }, { outputs: ['first_total'] });
  const initial = b.op1('onnx.Less', [firstTotal, limit], {}, { outputs: ['go'] });
  const trips = { twenty: b.constant(scalarI64(20)), 'int64-max': b.constant(Tensor.fromValues('int64', [], [2n ** 63n - 1n])), none: null }[tripCount];
  const [grown, totals] = b.op('onnx.Loop', [trips, initial, start], { body: attrs.graph(loopBody) }, { outputs: 2, name: 'while_loop' });
  return finish(b, [grown!, totals!]);
}

/** A Loop whose body holds an If that reads row (i mod 2) of x by a run-time Gather (so it stays an If: an IF region inside the WHILE body). */
function ifInsideLoop(): Model {
  const b = new GraphBuilder();
  const x = b.input('x', tensorType('float32', [2, 3]));
  const trips = b.input('trips', tensorType('int64', []));
  const loopBody = body('nested_body', [['i', 'int64', []], ['cond', 'bool', []], ['v', 'float32', [3]]], (inner, [i, cond, v]) => {
    const row = inner.op1('onnx.Mod', [i!, inner.constant(scalarI64(2))]);
    const even = inner.op1('onnx.Equal', [row, inner.constant(scalarI64(0))]);
    const thenBranch = body('even', [], (branch) => [branch.op1('onnx.Add', [v!, branch.op1('onnx.Gather', [x, row], { axis: attrs.int(0) })])]);
    const elseBranch = body('odd', [], (branch) => [branch.op1('onnx.Sub', [branch.op1('onnx.Mul', [v!, branch.constant(f32(0.5))]), branch.op1('onnx.Gather', [x, row], { axis: attrs.int(0) })])]);
    const [picked] = inner.op('onnx.If', [even], { then_branch: attrs.graph(thenBranch), else_branch: attrs.graph(elseBranch) }, { outputs: 1, name: 'parity_if' });
    return [cond!, picked!];
  });
  const [result] = b.op('onnx.Loop', [trips, null, b.constant(seededTensor([3], 17))], { body: attrs.graph(loopBody) }, { outputs: 1, name: 'outer_loop' });
  return finish(b, [result!]);
}

/** Loops inside control flow: an If whose then branch runs a Loop of `trips` steps, and a Loop whose body runs a Loop of i + 1 steps (a triangular sum). */
function nestedLoops(): Model {
  const b = new GraphBuilder();
  const x = b.input('x', tensorType('float32', [2, 3]));
  const trips = b.input('trips', tensorType('int64', []));
  const flag = b.input('flag', tensorType('bool', []));
  const accumulate = body('then_loop_body', [['j', 'int64', []], ['c', 'bool', []], ['acc', 'float32', [2, 3]]], (inner, [j, c, acc]) => {
    const term = inner.op1('onnx.Mul', [x, inner.op1('onnx.Cast', [inner.op1('onnx.Add', [j!, inner.constant(scalarI64(1))])], { to: attrs.int(1) })]);
    return [c!, inner.op1('onnx.Add', [acc!, inner.op1('onnx.Mul', [term, inner.constant(f32(0.1))])])];
  });
  const thenBranch = body('looping', [], (inner) => inner.op('onnx.Loop', [trips, null, x], { body: attrs.graph(accumulate) }, { outputs: 1, name: 'loop_in_if' }));
  const elseBranch = body('negating', [], (inner) => [inner.op1('onnx.Neg', [x])]);
  const [branched] = b.op('onnx.If', [flag], { then_branch: attrs.graph(thenBranch), else_branch: attrs.graph(elseBranch) }, { outputs: 1, name: 'if_with_loop' });
  const outerBody = body('outer_body', [['i', 'int64', []], ['cond', 'bool', []], ['v', 'float32', [2, 3]]], (inner, [i, cond, v]) => {
    const steps = inner.op1('onnx.Add', [i!, inner.constant(scalarI64(1))]);
    const innerLoop = body('inner_body', [['k', 'int64', []], ['c', 'bool', []], ['w', 'float32', [2, 3]]], (deep, [k, c, w]) => [c!, deep.op1('onnx.Add', [w!, deep.op1('onnx.Mul', [v!, deep.op1('onnx.Cast', [k!], { to: attrs.int(1) })])])]);
    const [summed] = inner.op('onnx.Loop', [steps, null, v!], { body: attrs.graph(innerLoop) }, { outputs: 1, name: 'inner_loop' });
    return [cond!, inner.op1('onnx.Mul', [summed!, inner.constant(f32(0.25))])];
  });
  const [nested] = b.op('onnx.Loop', [trips, null, x], { body: attrs.graph(outerBody) }, { outputs: 1, name: 'outer_loop' });
  return finish(b, [branched!, nested!]);
}

/** If whose branches give different shapes: a constant [2,3] or x stacked on its negation [4,3]; and 3·tanh of it. */
function raggedIf(): Model {
  const b = new GraphBuilder();
  const x = b.input('x', tensorType('float32', [2, 3]));
  const flag = b.input('flag', tensorType('bool', []));
  const thenBranch = body('keep', [], (inner) => [inner.constant(seededTensor([2, 3], 9))]);
  const elseBranch = body('stack', [], (inner) => [inner.op1('onnx.Concat', [x, inner.op1('onnx.Neg', [x])], { axis: attrs.int(0) })]);
  const [picked] = b.op('onnx.If', [flag], { then_branch: attrs.graph(thenBranch), else_branch: attrs.graph(elseBranch) }, { outputs: 1, name: 'ragged_if' });
  // Read after the IF too: the ops after it run on its run-time shape, bounded like it.
  return finish(b, [picked!, b.op1('onnx.Mul', [b.op1('onnx.Tanh', [picked!]), b.constant(f32(3))])]);
}

/** If whose then branch gathers at a run-time index that is out of range exactly when the else branch is taken. */
function guardedGatherIf(): Model {
  const b = new GraphBuilder();
  const x = b.input('x', tensorType('float32', [2, 3]));
  const index = b.input('index', tensorType('int64', []));
  const inRange = b.op1('onnx.Less', [index, b.constant(scalarI64(2))]);
  const thenBranch = body('gather', [], (inner) => [inner.op1('onnx.Gather', [x, index], { axis: attrs.int(0) })]);
  const elseBranch = body('fallback', [], (inner) => [inner.op1('onnx.ReduceMean', [x], { axes: attrs.ints([0]), keepdims: attrs.int(0) })]);
  const [picked] = b.op('onnx.If', [inRange], { then_branch: attrs.graph(thenBranch), else_branch: attrs.graph(elseBranch) }, { outputs: 1, name: 'guarded_if' });
  return finish(b, [picked!]);
}

describe('legalize-tflite: Loop with run-time trip count or condition → TFLite WHILE (TFLite runtime within 1e-4 of ONNX Runtime)', () => {
  it('a run-time trip count: carried sum and a scan output of run-time length', async () => {
    const converted = await expectMatches(runtimeTripsLoop, [1, 4, 7].map((trips) => ({ x: x23, trips: scalarI64(trips) })), ['tflite.WHILE', 'tflite.DYNAMIC_UPDATE_SLICE', 'tflite.SLICE']);
    const loop = [...converted.graph.nodesOf('tflite.WHILE')][0]!;
    // State: i, cond, v, M, the captured x, the scan buffer.
    expect(loop.inputs).toHaveLength(6);
    expect(loop.attr('body_subgraph', 'graph').inputs).toHaveLength(6);
  });

  it('a run-time condition computed in the body, with a trip count of 20, of INT64_MAX, and none', async () => {
    const feeds = [0.5, 10, 200].map((limit) => ({ x: x23, limit: f32(limit) }));
    for (const tripCount of ['twenty', 'int64-max', 'none'] as const) await expectMatches(() => conditionLoop(tripCount), feeds, ['tflite.WHILE']);
  });

  it('a constant trip count too big to unroll: WHILE, the scan output a static buffer of every row', async () => {
    const converted = await expectMatches(longConstantLoop, [{ x: Tensor.fromValues('float32', [3], [1, -2, 0.5]) }], ['tflite.WHILE', 'tflite.DYNAMIC_UPDATE_SLICE']);
    expect(allOps(converted)).not.toContain('tflite.SLICE');
    expect(converted.graph.outputs[1]!.type).toEqual(tensorType('float32', [6_000, 3]));
  });

  it('an If inside the Loop body becomes an IF inside the WHILE body', async () => {
    const converted = await expectMatches(ifInsideLoop, [0, 1, 2, 5].map((trips) => ({ x: x23, trips: scalarI64(trips) })), ['tflite.WHILE', 'tflite.IF']);
    const loop = [...converted.graph.nodesOf('tflite.WHILE')][0]!;
    expect([...loop.attr('body_subgraph', 'graph').nodesOf('tflite.IF')]).toHaveLength(1);
  });
});

/** Slice of x [2, 5] along axis 1 from run-time starts to run-time ends (ONNX's negative and out-of-range positions included), then 2·it. */
function runTimeSlice(): Model {
  const b = new GraphBuilder();
  const x = b.input('x', tensorType('float32', [2, 5]));
  const starts = b.input('starts', tensorType('int64', [1]));
  const ends = b.input('ends', tensorType('int64', [1]));
  const part = b.op1('onnx.Slice', [x, starts, ends, b.constant(i64([1]))], {}, { name: 'run_time_slice' });
  return finish(b, [part, b.op1('onnx.Mul', [part, b.constant(f32(2))])]);
}

describe('legalize-tflite: Slice at run-time positions (what loop bodies slice by their iteration number)', () => {
  it('SLICE with begin and size computed as ONNX clamps them', async () => {
    const positions: [number, number][] = [[1, 3], [0, 5], [-3, -1], [-9, 2], [2, 99], [4, 2], [3, 3]];
    await expectMatches(runTimeSlice, positions.map(([from, to]) => ({ x: seededTensor([2, 5], 8), starts: i64([from]), ends: i64([to]) })), ['tflite.SLICE']);
  });
});

describe('legalize-tflite: nested regions', () => {
  it('a Loop inside an If branch (WHILE in an IF region) and a Loop inside a Loop body (WHILE in a WHILE region)', async () => {
    const feeds = [0, 3].flatMap((trips) => [true, false].map((flag) => ({ x: x23, trips: scalarI64(trips), flag: Tensor.fromValues('bool', [], [flag]) })));
    const converted = await expectMatches(nestedLoops, feeds, ['tflite.WHILE', 'tflite.IF']);
    const choice = [...converted.graph.nodesOf('tflite.IF')][0]!;
    expect([...choice.attr('then_subgraph', 'graph').nodesOf('tflite.WHILE')]).toHaveLength(1);
    const outer = [...converted.graph.nodesOf('tflite.WHILE')][0]!;
    expect([...outer.attr('body_subgraph', 'graph').nodesOf('tflite.WHILE')]).toHaveLength(1);
  });
});

describe('legalize-tflite: If that must run one branch only → TFLite IF (TFLite runtime within 1e-4 of ONNX Runtime)', () => {
  it('branches of different shapes: the output has its run-time shape', async () => {
    await expectMatches(raggedIf, [true, false].map((flag) => ({ x: x23, flag: Tensor.fromValues('bool', [], [flag]) })), ['tflite.IF']);
  });

  it('a branch that would fail on the data of the branch not taken (Gather out of range)', async () => {
    await expectMatches(guardedGatherIf, [0, 1, 2, 9].map((index) => ({ x: x23, index: scalarI64(index) })), ['tflite.IF']);
  });
});

describe('legalize-tflite refuses control flow TFLite regions cannot hold, per node', () => {
  it('names the node and the reason, changing nothing', async () => {
    const b = new GraphBuilder();
    const x = b.input('x', tensorType('float32', [2, 3]));
    const trips = b.input('trips', tensorType('int64', []));
    const growing = body('grow', [['i', 'int64', []], ['cond', 'bool', []], ['v', 'float32', [2, 3]]], (inner, [, cond, v]) => [cond!, inner.op1('onnx.Concat', [v!, v!], { axis: attrs.int(0) })]);
    const [grown] = b.op('onnx.Loop', [trips, null, x], { body: attrs.graph(growing) }, { outputs: 1, name: 'growing_loop' });
    const forever = body('forever', [['i', 'int64', []], ['cond', 'bool', []], ['v', 'float32', [2, 3]]], (inner, [, cond, v]) => [cond!, inner.op1('onnx.Relu', [v!])]);
    const [endless] = b.op('onnx.Loop', [null, null, x], { body: attrs.graph(forever) }, { outputs: 1, name: 'endless_loop' });
    const model = finish(b, [grown!, endless!]);
    await expectRefused(model, [/growing_loop.*carried value 0 changes type or shape in the body/, /endless_loop.*neither a trip count nor a condition never ends/]);
  });
});

const run = promisify(execFile);
const CLI = join(REPO_ROOT, 'packages', 'cli', 'dist', 'bin.js');
const NODE_CASES = '/usr/share/libonnx-testdata/data/node';

async function modelpass(args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: build first (npx nx run-many -t build)`);
  try {
    const { stdout, stderr } = await run(process.execPath, [CLI, ...args], { cwd: workDir, maxBuffer: 16 << 20 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failure = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof failure.code === 'number' ? failure.code : -1, stdout: failure.stdout ?? '', stderr: failure.stderr ?? '' };
  }
}

/** `modelpass convert <case>/model.onnx -o <case>.tflite`, then `modelpass compare` on the case's own inputs (test_data_set_0). */
async function convertAndCompare(name: string): Promise<{ convert: { code: number; stderr: string }; verdict?: string }> {
  if (!existsSync(NODE_CASES)) throw new Error(`ONNX's conformance data is missing at ${NODE_CASES}: run 'npm run setup' (installs Debian's libonnx-testdata)`);
  const out = join(workDir, `${name}.tflite`);
  const convert = await modelpass(['convert', join(NODE_CASES, name, 'model.onnx'), '-o', out]);
  if (convert.code !== 0) return { convert };
  expect(existsSync(out)).toBe(true);
  const compare = await modelpass(['compare', join(NODE_CASES, name, 'model.onnx'), out, '--inputs', join(NODE_CASES, name, 'test_data_set_0'), '--atol', '1e-4', '--json']);
  expect(compare.code, compare.stderr).toBe(0);
  return { convert, verdict: (JSON.parse(compare.stdout) as { verdict: string }).verdict };
}

describe('modelpass convert … .tflite on ONNX\'s Loop/If conformance cases, then modelpass compare (ONNX Runtime vs TFLite 2.9)', () => {
  // test_loop11: a run-time trip count, a scan output and a Slice by the iteration number in the body.
  for (const name of ['test_loop11', 'test_range_float_type_positive_delta_expanded', 'test_range_int32_type_negative_delta_expanded', 'test_if']) {
    it(`${name}: converts and agrees`, async () => {
      const result = await convertAndCompare(name);
      expect(result.convert.code, result.convert.stderr).toBe(0);
      expect(result.verdict).toBe('agree');
    });
  }

  for (const [name, pattern] of [
    ['test_loop13_seq', /node 'Loop' \(onnx\.Loop\).*cannot become a TFLite WHILE: carried value 0 \('seq_empty'\) is a sequence/],
    ['test_loop16_seq_none', /node 'Loop' \(onnx\.Loop\).*cannot become a TFLite WHILE: carried value 0 \('opt_seq'\) is an optional/],
    ['test_if_seq', /node 'If' \(onnx\.If\).*cannot become a TFLite IF: output 0 is a sequence in the then branch/],
    ['test_if_opt', /node 'If' \(onnx\.If\).*cannot become a TFLite IF: output 0 is an optional in the then branch/],
  ] as const) {
    it(`${name}: refused per node (sequences and optionals are not tensors)`, async () => {
      const model = readOnnx(join(NODE_CASES, name, 'model.onnx'));
      inferShapes(model, { mode: 'refresh' });
      const error = await legalize(model).then(
        () => undefined,
        (thrown: unknown) => thrown,
      );
      expect(ModelpassError.is(error), String(error)).toBe(true);
      expect((error as Error).message).toMatch(pattern);
    });
  }
});
