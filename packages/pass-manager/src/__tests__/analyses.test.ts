import { describe, expect, it } from 'vitest';
import { attrs, defineOp, GraphBuilder, OpRegistry, tensorType, type Model } from '@modelpass/ir';
import {
  ANALYSES,
  defineAnalysis,
  definePass,
  knownAnalysisNames,
  PassEnvironment,
  PassFailure,
  PassRegistry,
  runPipeline,
  type NodeOrder,
  type ShapeFacts,
  type ValueUsers,
} from '@modelpass/pass-manager';

const ops = new OpRegistry([
  defineOp({
    op: 'test.Double',
    inputs: [{ name: 'x' }],
    outputs: [{ name: 'y' }],
    inferTypes: ({ inputType }) => {
      const t = inputType(0);
      return [t && t.kind === 'tensor' && t.shape ? tensorType(t.dtype, t.shape.map((d) => (typeof d === 'number' ? d * 2 : d))) : undefined];
    },
  }),
  defineOp({ op: 'test.If', inputs: [{ name: 'c' }], outputs: [{ name: 'y' }], attributes: { body: { kind: 'graph' } } }),
]);

/** x → Double → Double → y, plus an If whose body reads `a` (the first Double's output). */
function model(): Model {
  const b = new GraphBuilder();
  const x = b.input('x', tensorType('float32', [1, 3]));
  const a = b.op1('test.Double', [x], {}, { name: 'first' });
  const y = b.op1('test.Double', [a], {}, { name: 'second' });
  const body = new GraphBuilder();
  body.output(body.op1('test.Double', [a], {}, { name: 'inner' }));
  const branch = b.op1('test.If', [x], { body: attrs.graph(body.graph) }, { name: 'if' });
  b.output(y, branch);
  return b.model({ test: 1 });
}

function environment(...passes: ReturnType<typeof definePass>[]): PassEnvironment {
  return new PassEnvironment({ passes: new PassRegistry(passes), ops });
}

describe('named analyses', () => {
  it('defines shapes, uses and topological-order, and lists every defined name', () => {
    expect(Object.values(ANALYSES).map((a) => a.name)).toEqual(['shapes', 'uses', 'topological-order']);
    expect(knownAnalysisNames()).toEqual(expect.arrayContaining(['shapes', 'uses', 'topological-order']));
  });

  it('computes real facts: inferred types, readers across subgraphs, node positions', async () => {
    let facts: { shapes?: ShapeFacts; uses?: ValueUsers; order?: NodeOrder } = {};
    const m = model();
    const look = definePass({
      name: 'look',
      summary: 'reads analyses',
      run(_model, context) {
        facts = { shapes: context.analysis(ANALYSES.shapes), uses: context.analysis(ANALYSES.uses), order: context.analysis(ANALYSES.topologicalOrder) };
        return context.preserveAll();
      },
    });
    await runPipeline(m, 'look', { environment: environment(look) });
    const [first, second, branch] = m.graph.nodeList();
    expect(facts.shapes!.typeOf(second!.output(0))).toEqual(tensorType('float32', [4, 12]));
    expect(facts.shapes!.inferredCount).toBe(3);
    expect(facts.uses!.usersOf(first!.output(0))).toEqual([second, branch]);
    expect(facts.uses!.isUsed(branch!.output(0))).toBe(true);
    expect(facts.order!.comesBefore(first!, branch!)).toBe(true);
    expect(facts.order!.comesBefore(branch!, first!)).toBe(false);
  });

  it('keeps a preserved analysis cached and recomputes a dropped one', async () => {
    let computed = 0;
    const counted = defineAnalysis({ name: 'counted-nodes', compute: (m) => (computed++, m.graph.nodeCount) });
    const pass = (name: string, keep: string[]) =>
      definePass({ name, summary: name, run: (_m, context) => (context.analysis(counted), context.analysis(ANALYSES.shapes), context.preserve(keep)) });
    await runPipeline(model(), 'a,b,c', { environment: environment(pass('a', ['counted-nodes', 'shapes']), pass('b', ['shapes']), pass('c', [])) });
    expect(computed).toBe(2);
  });

  it('refuses an unknown name, naming the pass and suggesting the closest', async () => {
    const typo = definePass({ name: 'typo-pass', summary: 't', run: (_m, context) => context.preserve(['shape']) });
    const failure = await runPipeline(model(), 'typo-pass', { environment: environment(typo) }).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(PassFailure);
    expect(String((failure as Error).message)).toMatch(/typo-pass/);
    expect(String((failure as Error).message)).toMatch(/analysis 'shape', which does not exist — did you mean 'shapes'\?/);
  });
});
