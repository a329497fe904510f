import { describe, expect, it } from 'vitest';
import { GraphBuilder, Tensor, tensorType, type Model } from '@modelpass/ir';
import { createOpRegistry } from '@modelpass/ops';
import type { OptionSpecs, Pass, PassContext } from '@modelpass/pass-manager';
import { foldConstantsPass, runNested } from '@modelpass/transforms';

/** y = x + (c1 * c2): the Mul folds, its two constants die with it. */
function foldableModel(): Model {
  const b = new GraphBuilder();
  const x = b.input('x', tensorType('float32', [2]));
  const product = b.op1('onnx.Mul', [b.constant(Tensor.fromValues('float32', [2], [1, 2]), 'c1'), b.constant(Tensor.fromValues('float32', [2], [3, 4]), 'c2')]);
  b.output(b.op1('onnx.Add', [x, product]));
  return b.model();
}

function parentContext(recorded: Map<string, number>, collects?: (name: string) => boolean): PassContext<OptionSpecs> {
  const preserved = { all: false, analyses: [] } as never;
  return {
    options: {},
    registry: createOpRegistry(),
    passName: 'parent',
    patterns: [],
    statistic: (name, delta = 1) => void recorded.set(name, (recorded.get(name) ?? 0) + delta),
    ...(collects ? { collectsStatistic: collects } : {}),
    analysis: () => {
      throw new Error('no analyses here');
    },
    report: () => {},
    debug: () => {},
    signal: new AbortController().signal,
    preserveAll: () => preserved,
    preserveNone: () => preserved,
    preserve: () => preserved,
  };
}

describe('statistics of nested passes', () => {
  it('fold-constants still counts removed nodes and saved bytes when they are forwarded or collected', async () => {
    const forwarded = new Map<string, number>();
    await runNested(foldConstantsPass as Pass<OptionSpecs>, foldableModel(), parentContext(forwarded), { forward: new Set(['nodes-removed', 'bytes-saved', 'nodes-folded']) });
    expect(forwarded.get('nodes-folded')).toBe(1);
    expect(forwarded.get('nodes-removed')).toBe(1);
    expect(forwarded.get('bytes-saved')).toBe(8); // 16 bytes of c1, c2 → 8 of the folded product

    const collected = new Map<string, number>();
    await runNested(foldConstantsPass as Pass<OptionSpecs>, foldableModel(), parentContext(new Map()), { forward: new Set(), collect: collected });
    expect(collected.get('nodes-removed')).toBe(1);
    expect(collected.get('bytes-saved')).toBe(8);
  });

  it('skips the counting walks when nothing reads them, and folds the same', async () => {
    const model = foldableModel();
    const asked: string[] = [];
    const recorded = new Map<string, number>();
    const context = parentContext(new Map());
    // What runNested tells a nested pass whose statistics go nowhere.
    const child = { ...context, statistic: (name: string, delta = 1) => void recorded.set(name, delta), collectsStatistic: (name: string) => (asked.push(name), false) };
    await foldConstantsPass.run(model, child as PassContext<typeof foldConstantsPass.options>);
    expect(asked.sort()).toEqual(['bytes-saved', 'nodes-removed']);
    expect(recorded.has('nodes-removed')).toBe(false);
    expect(recorded.has('bytes-saved')).toBe(false);
    expect(recorded.get('nodes-folded')).toBe(1);
    expect([...model.graph.nodes()].map((node) => node.op)).toEqual(['onnx.Add']);
  });

  it('runNested says a statistic is read only when it is collected, or forwarded to a parent that reads it', async () => {
    const answers: Record<string, boolean> = {};
    const probe = { ...foldConstantsPass, run: (_model: Model, context: PassContext<OptionSpecs>) => void Object.assign(answers, { a: context.collectsStatistic?.('a'), b: context.collectsStatistic?.('b') }) } as Pass<OptionSpecs>;
    await runNested(probe, foldableModel(), parentContext(new Map()), { forward: new Set(['a']) });
    expect(answers).toEqual({ a: true, b: false });
    await runNested(probe, foldableModel(), parentContext(new Map(), () => false), { forward: new Set(['a']) });
    expect(answers).toEqual({ a: false, b: false });
    await runNested(probe, foldableModel(), parentContext(new Map()), { forward: new Set(), collect: new Map() });
    expect(answers).toEqual({ a: true, b: true });
  });
});
