import { definePass, option } from '@modelpass/pass-manager';
import { eraseIfUnused } from './graph-edits.js';
import { findHardSwishCandidates, fuseHardSwish, hardSwishAccepts, HARD_SWISH_OPSET } from './hard-swish.js';

/**
 * `x * HardSigmoid(x; alpha=1/6, beta=0.5)` → `onnx.HardSwish(x)`, bit-exact (ONNX defines
 * HardSwish as exactly that product). A pass rather than a canonicalize pattern because it needs
 * the model's opset: HardSwish exists from onnx opset 14, and rewrite patterns see only nodes.
 */
export const fuseHardSwishPass = definePass({
  name: 'fuse-hardswish',
  summary: 'Fuse x * HardSigmoid(x) (alpha=1/6, beta=0.5) into onnx.HardSwish (onnx opset >= 14)',
  description:
    'Each Mul(x, HardSigmoid(x)) becomes one HardSwish node; a HardSigmoid nobody reads any more is erased. ' +
    'Models importing an onnx opset below 14 are left alone with a warning.',
  options: {
    shared: option.boolean({
      default: true,
      help: 'also fuse a Mul whose HardSigmoid has other readers (the HardSigmoid then stays for them)',
    }),
    skipNodes: option.list(option.string({}), { default: [], help: 'names of Mul nodes to leave alone' }),
  },
  statistics: ['fused', 'hardsigmoids-removed', 'skipped-by-name', 'skipped-shared', 'skipped-opset'],
  run(model, context) {
    const candidates = findHardSwishCandidates(model);
    if (candidates.length === 0) return context.preserveAll();
    const opset = model.opset('onnx') ?? 0;
    if (opset < HARD_SWISH_OPSET) {
      context.statistic('skipped-opset', candidates.length);
      context.report({
        severity: 'warning',
        reason: `fuse-hardswish: ${candidates.length} Mul(x, HardSigmoid(x)) left unfused: onnx.HardSwish needs onnx opset ${HARD_SWISH_OPSET}, the model imports ${opset || 'no onnx opset'}`,
        location: { node: candidates[0]!.mul.name },
      });
      return context.preserveAll();
    }
    const skip = new Set(context.options.skipNodes);
    let fused = 0;
    for (const match of candidates) {
      if (skip.has(match.mul.name)) {
        context.statistic('skipped-by-name');
        continue;
      }
      const gate = match.mul.inputs.find((input) => input?.producer === match.hardSigmoid)!;
      if (!context.options.shared && gate.useCount > 1) {
        context.statistic('skipped-shared');
        continue;
      }
      if (!hardSwishAccepts(match.x, opset)) {
        context.debug(`fuse-hardswish: left '${match.mul.name}' alone: HardSwish does not take ${match.x.type.kind === 'tensor' ? match.x.type.dtype : 'this type'} at opset ${opset}`);
        continue;
      }
      fuseHardSwish(match);
      fused++;
      if (eraseIfUnused(match.hardSigmoid)) context.statistic('hardsigmoids-removed');
    }
    context.statistic('fused', fused);
    return fused > 0 ? context.preserveNone() : context.preserveAll();
  },
});
