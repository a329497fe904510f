import { defineOp, GraphBuilder, OpRegistry, tensorType, type Model } from '@modelpass/ir';
import { definePass, option, PassEnvironment, PassRegistry } from '@modelpass/pass-manager';

/** A tiny dialect for tests: unary ops on float tensors. */
export const testOps = [
  defineOp({ op: 'test.Relu', inputs: [{ name: 'x' }], outputs: [{ name: 'y' }] }),
  defineOp({ op: 'test.Neg', inputs: [{ name: 'x' }], outputs: [{ name: 'y' }] }),
  defineOp({ op: 'test.Identity', inputs: [{ name: 'x' }], outputs: [{ name: 'y' }] }),
];

/** x → Relu → Neg → y */
export function smallModel(): Model {
  const b = new GraphBuilder();
  const x = b.input('x', tensorType('float32', [2, 3]));
  const r = b.op1('test.Relu', [x], {}, { name: 'relu' });
  const n = b.op1('test.Neg', [r], {}, { name: 'neg' });
  b.output(n);
  return b.model({ test: 1 });
}

export const prunePass = definePass({
  name: 'prune-magnitude',
  summary: 'Zero the smallest-magnitude weights',
  description: 'Test stand-in for the real pruning pass.',
  options: {
    sparsity: option.number({ default: 0.5, min: 0, max: 1, help: 'fraction of weights to zero' }),
    scheme: option.enum(['unstructured', 'channel'], { default: 'unstructured' }),
    layers: option.list(option.string({}), { help: 'layer names' }),
    blockSizes: option.list(option.integer({ min: 1 }), { default: [1, 2] }),
    dryRun: option.boolean({ default: false }),
    tag: option.string({}),
  },
  statistics: ['weights-pruned'],
  run(_model, context) {
    context.statistic('weights-pruned', Math.round(context.options.sparsity * 10));
    return context.preserveAll();
  },
});

export const canonicalizePass = definePass({
  name: 'canonicalize',
  summary: 'Canonicalize',
  run(_model, context) {
    return context.preserveAll();
  },
});

export const dcePass = definePass({
  name: 'dce',
  summary: 'Remove dead nodes',
  options: { aggressive: option.boolean({ default: false }) },
  run() {},
});

export function testRegistry(): PassRegistry {
  return new PassRegistry([prunePass, canonicalizePass, dcePass], '@modelpass/test');
}

export function testEnvironment(passes = testRegistry()): PassEnvironment {
  return new PassEnvironment({ passes, ops: new OpRegistry(testOps) });
}
