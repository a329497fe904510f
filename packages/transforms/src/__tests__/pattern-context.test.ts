import { describe, expect, it } from 'vitest';
import { GraphBuilder, tensorType, type RewritePattern } from '@modelpass/ir';
import { canonicalize } from '@modelpass/transforms';
import { opsOf, runPass } from './helpers.js';

/** x → Relu → y under the given onnx opset. */
function reluModel(opset: number) {
  const b = new GraphBuilder();
  const x = b.input('x', tensorType('float32', [4]));
  b.output(b.op1('onnx.Relu', [x], {}, { outputs: ['y'], types: [tensorType('float32', [4])] }));
  return b.model({ onnx: opset });
}

// A plugin pattern whose rewrite depends on the model's opset (and reads the registry and the builder).
const reluToAbsFromOpset14: RewritePattern = {
  name: 'relu-to-abs-from-opset-14',
  ops: ['onnx.Relu'],
  rewrite(node, rewriter) {
    if ((rewriter.opset('onnx') ?? 0) < 14 || rewriter.model === undefined) return false;
    if (!rewriter.registry?.has('onnx.Abs')) return false;
    const abs = rewriter.builder().op1('onnx.Abs', [node.input(0)], {}, { types: [node.output(0).type] });
    rewriter.replaceNode(node, [abs]);
    return true;
  },
};

describe('canonicalize gives patterns the model and the registry', () => {
  it('runs an opset-dependent plugin pattern only where the model imports a new enough opset', async () => {
    const old = reluModel(13);
    await runPass(canonicalize, old, {}, [reluToAbsFromOpset14]);
    expect(opsOf(old)).toEqual(['Relu']);
    const fresh = reluModel(14);
    const run = await runPass(canonicalize, fresh, {}, [reluToAbsFromOpset14]);
    expect(opsOf(fresh)).toEqual(['Abs']);
    expect(fresh.graph.outputs[0]!.name).toBe('y');
    expect(run.statistics.get('rewrites')).toBe(1);
  });
});
