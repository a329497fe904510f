/**
 * SGD in PyTorch's form (`torch.optim.SGD`, no dampening, no Nesterov):
 * d = g + λ·w; v ← μ·v + d (v₁ = d); w ← w − lr·v. Without momentum there is no state.
 */
import { defineOptimizer, optimizerOptionError, type SgdSpec } from './optimizer-rule.js';

export const sgdOptimizer = defineOptimizer<SgdSpec>({
  kind: 'sgd',
  stateSlots: (spec) => ((spec.momentum ?? 0) > 0 ? ['momentum'] : []),
  scalarInputs: ['lr'],
  scalars: (_spec, lr) => ({ lr }),
  check(spec) {
    const momentum = spec.momentum ?? 0;
    if (!(Number.isFinite(momentum) && momentum >= 0 && momentum < 1)) throw optimizerOptionError('sgd', 'momentum', spec.momentum, 'a number in [0, 1)');
    const decay = spec.weightDecay ?? 0;
    if (!(Number.isFinite(decay) && decay >= 0)) throw optimizerOptionError('sgd', 'weightDecay', spec.weightDecay, 'a number ≥ 0');
  },
  update(ctx, spec, weight, grad, state, scalars) {
    const decay = spec.weightDecay ?? 0;
    const direction = decay > 0 ? ctx.op('Add', [grad, ctx.op('Mul', [weight, ctx.scalar(decay)])]) : grad;
    const momentum = spec.momentum ?? 0;
    const velocity = momentum > 0 ? ctx.op('Add', [ctx.op('Mul', [state[0]!, ctx.scalar(momentum)]), direction]) : direction;
    const updated = ctx.op('Sub', [weight, ctx.op('Mul', [velocity, scalars.lr!])]);
    return { weight: updated, state: momentum > 0 ? [velocity] : [] };
  },
});
