/**
 * verify-each's `knownValues`: the input check sees data the model computes (a Reshape target from Shape(x)), so
 * a declared output contradicting it is the input's tolerated stale declaration, for the whole pipeline — not an
 * error of the pass that later folds the computation to a constant, even behind a pass that changed nothing.
 */
import { Builder, defineOp, GraphBuilder, OpRegistry, Tensor, tensorType, type KnownValues, type Model } from '@modelpass/ir';
import { definePass, PassEnvironment, PassFailure, PassRegistry, runPipeline } from '@modelpass/pass-manager';
import { describe, expect, it } from 'vitest';

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
