import { inferShapes } from '@modelpass/ops';
import { definePass, option, type OptionSpecs, type Pass } from '@modelpass/pass-manager';
import { foldConstantsPass, foldShapes, fuseBatchNormPass, optimize, runNested } from '@modelpass/transforms';
import { lowerToTflite, withTfliteDialect } from './legalize.js';
import { prepareCanonicalForTflite } from './prepare.js';

export const legalizeTflite = definePass({
  name: 'legalize-tflite',
  summary: 'Lower canonical ONNX-style ops (NCHW) to the tflite dialect (NHWC) with no stray transposes',
  description:
    'Runs fold-shapes, fold-constants and fuse-bn (or the optimize preset with optimize=true), folds Constant nodes, rewrites GlobalPool/BatchNorm/GELU/HardSwish spellings, checks every node ' +
    '(all that cannot map are reported at once, with locations, before anything changes), turns layout-sensitive ops into NHWC ' +
    'builtins between transposes (weights transposed offline), declares image inputs/outputs NHWC with io-layout=nhwc, sinks and ' +
    'cancels transposes, lowers the rest op by op and folds RELU/RELU6 into the op before them.',
  options: {
    ioLayout: option.enum(['nchw', 'nhwc'], { default: 'nchw', help: 'layout of image-like graph inputs and outputs' }),
    groupedConv: option.enum(['split', 'native'], { default: 'split', help: 'grouped convolutions: one CONV_2D per group, or one grouped CONV_2D' }),
    optimize: option.boolean({ default: false, help: 'run the optimize preset first (every fusion, canonicalize, cse); by default only fold-shapes, fold-constants and fuse-bn run' }),
  },
  statistics: ['nodes-lowered', 'activations-fused', 'transposes-inside', 'transposes-at-boundary', 'transposes-estimated'],
  async run(model, context) {
    const registry = withTfliteDialect(context.registry);
    // Cheap by default (shape arithmetic folded, BatchNorm into convolutions); the optimize preset when asked.
    const preparation = context.options.optimize ? [optimize] : [foldShapes, foldConstantsPass, fuseBatchNormPass];
    for (const pass of preparation) await runNested(pass as Pass<OptionSpecs>, model, context, { forward: new Set() });
    inferShapes(model, { registry, mode: 'refresh' });
    prepareCanonicalForTflite(model);
    inferShapes(model, { registry, mode: 'refresh' });
    const result = lowerToTflite(model, registry, { ioLayout: context.options.ioLayout as 'nchw' | 'nhwc', groupedConv: context.options.groupedConv as 'split' | 'native' });
    context.statistic('nodes-lowered', result.lowered);
    context.statistic('activations-fused', result.fusedActivations);
    context.statistic('transposes-inside', result.transposes.inner);
    context.statistic('transposes-at-boundary', result.transposes.boundary);
    context.statistic('transposes-estimated', result.estimate.inner);
    model.opsetImports.set('tflite', model.opsetImports.get('tflite') ?? 1);
    return context.preserveNone();
  },
});
