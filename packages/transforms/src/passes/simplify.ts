import { definePass, option, type OptionSpecs, type Pass } from '@modelpass/pass-manager';
import { constantBytes, countNodes } from '../util/graph-walk.js';
import { ModelpassError } from '@modelpass/ir';
import { inferShapesWithRefusals } from '../util/shape-facts.js';
import { runNested } from './compose.js';
import { cse } from './cse.js';
import { dce } from './dce.js';
import { foldIf } from './fold-if.js';
import { DEFAULT_FOLD_MAX_GROWTH, DEFAULT_FOLD_MAX_SIZE, foldConstantsPass, foldShapes } from './fold.js';
import { preserved } from './pattern-pass.js';
import { canonicalize, fusePass } from './rewrite-passes.js';

const FORWARDED = new Set(['nodes-folded', 'shapes-folded', 'rewrites', 'nodes-fused', 'constants-merged', 'declined-for-growth', 'ifs-inlined']);
const COMPOSITE_STATISTICS = ['iterations', 'nodes-removed', 'bytes-saved', ...FORWARDED];

/** One fingerprint of the model's size: a round that changes none of it has reached the fixed point. */
function sizeOf(model: Parameters<Pass['run']>[0]): string {
  return `${countNodes(model)}/${constantBytes(model)}/${model.graph.constants.length}`;
}

export const simplify = definePass({
  name: 'simplify',
  summary: 'Shape inference, fold-shapes, fold-constants, fold-if, canonicalize, cse and dce, repeated to a fixed point',
  description:
    'Each round runs shape inference (when @modelpass/ops provides it), fold-shapes, fold-constants{max-size}, fold-if (an If with a ' +
    'constant condition becomes its taken branch), canonicalize, ' +
    'cse (unless cse=false) and dce; rounds repeat until one leaves the node count and constant bytes unchanged, or max-iterations.',
  options: {
    maxIterations: option.integer({ default: 8, min: 1, help: 'rounds before giving up on a fixed point' }),
    foldMaxSize: option.integer({ default: DEFAULT_FOLD_MAX_SIZE, min: 0, help: 'max-size of fold-constants, in bytes' }),
    foldMaxGrowth: option.integer({ default: DEFAULT_FOLD_MAX_GROWTH, min: 0, help: 'max-growth of fold-constants, in bytes' }),
    cse: option.boolean({ default: true, help: 'merge common subexpressions in each round' }),
  },
  statistics: COMPOSITE_STATISTICS,
  async run(model, context) {
    const nodesBefore = countNodes(model);
    const bytesBefore = constantBytes(model);
    const forward = { forward: FORWARDED };
    let iterations = 0;
    let changedAny = false;
    for (; iterations < context.options.maxIterations; ) {
      iterations++;
      const before = sizeOf(model);
      // An op whose inputs inference (with the values it propagates: a Squeeze's axes from Shape, a Slice's steps
      // from a Constant) proves impossible: ONNX Runtime refuses such a model at load, and folding would leave the
      // node for the verifier to find after the pass (passes fuzz s18). simplify stops there, naming the node.
      const refusals = inferShapesWithRefusals(model, (m) => context.debug(m));
      if (refusals.length > 0)
        throw new ModelpassError(
          refusals.map((d) => ({ ...d, hint: d.hint ?? 'the model computes this operand from values known before run time, and ONNX Runtime refuses it at load: fix the model' })),
        );
      const steps: [Pass<OptionSpecs>, Record<string, unknown>][] = [
        [foldShapes as Pass<OptionSpecs>, { inferShapes: false }],
        [foldConstantsPass as Pass<OptionSpecs>, { maxSize: context.options.foldMaxSize, maxGrowth: context.options.foldMaxGrowth }],
        [foldIf as Pass<OptionSpecs>, {}],
        [canonicalize as Pass<OptionSpecs>, {}],
        ...(context.options.cse ? [[cse as Pass<OptionSpecs>, { mergeConstants: false }] as [Pass<OptionSpecs>, Record<string, unknown>]] : []),
        [dce as Pass<OptionSpecs>, {}],
      ];
      const collect = new Map<string, number>();
      for (const [pass, overrides] of steps) await runNested(pass, model, context, { ...forward, overrides, collect });
      const changedThisRound = sizeOf(model) !== before || (collect.get('rewrites') ?? 0) > 0;
      changedAny ||= changedThisRound;
      if (!changedThisRound) break;
    }
    context.statistic('iterations', iterations);
    context.statistic('nodes-removed', Math.max(0, nodesBefore - countNodes(model)));
    context.statistic('bytes-saved', bytesBefore - constantBytes(model));
    return preserved(context, changedAny);
  },
});

export const optimize = definePass({
  name: 'optimize',
  summary: 'The preset pipeline: simplify, fuse, simplify',
  description:
    'Equivalent to the pipeline `simplify,fuse,simplify`: simplification to a fixed point, then every fusion ' +
    '(BatchNormalization/Add/Mul/Pad into Conv, BatchNormalization/Mul/Transpose into Gemm, MatMul+Add into Gemm) with the ' +
    'canonical patterns, then simplification again. Identical initializers are not merged (initializer layout stays as the ' +
    'producer wrote it); run eliminate-duplicate-initializers for the smallest file.',
  options: {
    foldMaxSize: option.integer({ default: DEFAULT_FOLD_MAX_SIZE, min: 0, help: 'max-size of fold-constants, in bytes' }),
    foldMaxGrowth: option.integer({ default: DEFAULT_FOLD_MAX_GROWTH, min: 0, help: 'max-growth of fold-constants, in bytes' }),
  },
  statistics: COMPOSITE_STATISTICS,
  async run(model, context) {
    const nodesBefore = countNodes(model);
    const bytesBefore = constantBytes(model);
    const forward = { forward: FORWARDED };
    const simplifyOptions = { foldMaxSize: context.options.foldMaxSize, foldMaxGrowth: context.options.foldMaxGrowth };
    // `iterations` of optimize: the simplify rounds of both simplify runs together.
    const simplifyForward = { forward: new Set([...FORWARDED, 'iterations']) };
    await runNested(simplify as Pass<OptionSpecs>, model, context, { ...simplifyForward, overrides: simplifyOptions });
    await runNested(fusePass as Pass<OptionSpecs>, model, context, forward);
    await runNested(simplify as Pass<OptionSpecs>, model, context, { ...simplifyForward, overrides: simplifyOptions });
    context.statistic('nodes-removed', Math.max(0, nodesBefore - countNodes(model)));
    context.statistic('bytes-saved', bytesBefore - constantBytes(model));
    return preserved(context, countNodes(model) !== nodesBefore || constantBytes(model) !== bytesBefore);
  },
});
