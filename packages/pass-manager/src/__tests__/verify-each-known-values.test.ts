/**
 * verify-each's `knownValues`: the input check sees data the model computes (a Reshape target from Shape(x)), so
 * a declared output contradicting it is the input's tolerated stale declaration, for the whole pipeline — not an
 * error of the pass that later folds the computation to a constant, even behind a pass that changed nothing.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Builder, defineOp, GraphBuilder, OpRegistry, printModel, Tensor, tensorType, type KnownValues, type Model } from '@modelpass/ir';
import { definePass, PassEnvironment, PassFailure, PassManager, PassRegistry, replayReproducer, runPipeline } from '@modelpass/pass-manager';
import { afterAll, describe, expect, it } from 'vitest';

const ops = [
  defineOp({
    op: 'test.Shape',
    inputs: [{ name: 'x' }],
    outputs: [{ name: 'shape' }],
    inferTypes: ({ inputType }) => {
      const type = inputType(0);
      return [type?.kind === 'tensor' && type.shape ? tensorType('int64', [type.shape.length]) : undefined];
    },
  }),
  defineOp({
    op: 'test.Reshape',
    inputs: [{ name: 'x' }, { name: 'shape' }],
    outputs: [{ name: 'y' }],
    inferTypes: ({ inputType, inputConstant }) => {
      const type = inputType(0);
      const target = inputConstant(1);
      return [type?.kind === 'tensor' && target ? tensorType(type.dtype, target.toNumbers()) : undefined];
    },
  }),
];

/** The dims of a Shape's static input: what a folding pass (and a whole-model analysis) knows of its output. */
function shapeData(node: { inputs: readonly ({ type: { kind: string; shape?: readonly unknown[] | null } } | null)[] }): Tensor | undefined {
  const type = node.inputs[0]?.type;
  return type?.kind === 'tensor' && type.shape?.every((d) => typeof d === 'number') ? Tensor.fromValues('int64', [type.shape.length], type.shape as number[]) : undefined;
}

const knownValues = (): KnownValues => (value) => (value.producer?.op === 'test.Shape' ? shapeData(value.producer) : undefined);

const noop = definePass({ name: 'noop', summary: 'n', run() {} });
const foldShape = definePass({
  name: 'fold-shape',
  summary: 'f',
  run(model) {
    for (const node of model.graph.nodeList()) {
      if (node.op !== 'test.Shape') continue;
      const constant = Builder.before(node).constant(shapeData(node)!, 'folded_shape');
      node.output().replaceAllUsesWith(constant);
      node.erase();
    }
  },
});
const environment = new PassEnvironment({ passes: new PassRegistry([noop, foldShape], '@modelpass/test'), ops: new OpRegistry(ops) });

/** y = Reshape(x [4,6], Shape(x)), y declared [6,4]. */
function staleModel(): Model {
  const b = new GraphBuilder();
  const x = b.input('x', tensorType('float32', [4, 6]));
  const shape = b.op1('test.Shape', [x], {}, { name: 'shape_of_x' });
  b.output(b.op1('test.Reshape', [x, shape], {}, { name: 'reshape', outputs: ['y'], types: [tensorType('float32', [6, 4])] }));
  return b.model({ test: 1 });
}

describe('verify-each with knownValues', () => {
  it('without it, the pass that folds the computation is blamed for the input\'s stale declaration', async () => {
    const error = await runPipeline(staleModel(), 'fold-shape', { environment }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PassFailure);
    expect((error as PassFailure).reason).toBe("pass 'fold-shape' left the IR invalid (1 verifier error)");
  });

  it('with it, the input check warns of the stale declaration and no pass is blamed, folding right away or after a pass', async () => {
    for (const pipeline of ['fold-shape', 'noop,fold-shape', 'noop,fold-shape,noop']) {
      const warnings: string[] = [];
      const result = await runPipeline(staleModel(), pipeline, { environment, verifyEach: { knownValues }, onDiagnostic: (d) => void warnings.push(`${d.severity}: ${d.code}: ${d.reason}`) });
      expect(result.passesRun).toBe(pipeline.split(',').length);
      expect(warnings).toEqual(["warning: verify/declared-shape: output #0 'y' is declared float32[6,4] but test.Reshape gives float32[4,6] for these inputs (dim 0 is 6, not 4)"]);
    }
  });
});

/** An op set whose registry knows the data its models compute, as `createOpRegistry` of @modelpass/ops does. */
const knowingEnvironment = new PassEnvironment({
  passes: new PassRegistry([noop, foldShape], '@modelpass/test'),
  ops: new OpRegistry(ops).setKnownValuesProvider(() => knownValues()),
});
const STALE_WARNING = "warning: verify/declared-shape: output #0 'y' is declared float32[6,4] but test.Reshape gives float32[4,6] for these inputs (dim 0 is 6, not 4)";

describe("verify-each takes the op registry's known values wherever it is built (case 6031: replay and library pipelines lacked them)", () => {
  const temp = mkdtempSync(join(tmpdir(), 'pm-known-values-'));
  afterAll(() => rmSync(temp, { recursive: true, force: true }));

  it('a library PassManager with the default verify-each does not blame the first pass for what the input already had', async () => {
    const warnings: string[] = [];
    const manager = new PassManager({ environment: knowingEnvironment, onDiagnostic: (d) => void warnings.push(`${d.severity}: ${d.code}: ${d.reason}`) });
    const result = await manager.run(staleModel(), 'fold-shape,noop');
    expect(result.passesRun).toBe(2);
    expect(warnings).toEqual([STALE_WARNING]);
    // A clone of the registry (a plugin's environment) keeps the provider; `knownValues: false` turns it off.
    expect((await new PassManager({ environment: knowingEnvironment.clone() }).run(staleModel(), 'fold-shape')).passesRun).toBe(1);
    const off = await new PassManager({ environment: knowingEnvironment, verifyEach: { knownValues: false } }).run(staleModel(), 'fold-shape').catch((e: unknown) => e);
    expect(off).toBeInstanceOf(PassFailure);
  });

  it('a replayed reproducer does not blame the pass either', async () => {
    const directory = join(temp, 'stale');
    rmSync(directory, { recursive: true, force: true });
    mkdirSync(directory);
    writeFileSync(join(directory, 'input.mpir'), printModel(staleModel()));
    writeFileSync(join(directory, 'pipeline.txt'), 'fold-shape\n');
    const warnings: string[] = [];
    const replayed = await replayReproducer(directory, { environment: knowingEnvironment, onDiagnostic: (d) => void warnings.push(`${d.severity}: ${d.code}: ${d.reason}`) });
    expect(replayed.reproduced).toBe(false);
    expect(warnings).toEqual([STALE_WARNING]);
    // The same reproducer under an op set without known values blames the pass.
    await expect(replayReproducer(directory, { environment })).rejects.toBeInstanceOf(PassFailure);
  });
});
