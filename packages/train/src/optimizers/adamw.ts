/**
 * AdamW as `torch.optim.AdamW` computes it (Loshchilov & Hutter, decoupled weight decay):
 * w ← w·(1 − lr·λ); m ← β1·m + (1 − β1)·g; v ← β2·v + (1 − β2)·g²;
 * w ← w − (lr / (1 − β1ᵗ)) · m / (√v / √(1 − β2ᵗ) + ε).
 * The step-dependent factors are scalar inputs computed in float64 by the loop, as PyTorch does in Python.
 */
import { defineOptimizer, optimizerOptionError, type AdamWSpec } from './optimizer-rule.js';

function betasOf(spec: AdamWSpec): readonly [number, number] {
  return spec.betas ?? [0.9, 0.999];
}

export const adamwOptimizer = defineOptimizer<AdamWSpec>({
  kind: 'adamw',
  stateSlots: () => ['exp_avg', 'exp_avg_sq'],
  scalarInputs: ['decay_factor', 'step_size', 'bias_correction2_sqrt'],
  scalars(spec, lr, step) {
    const [beta1, beta2] = betasOf(spec);
    return {
      decay_factor: 1 - lr * (spec.weightDecay ?? 0.01),
      step_size: lr / (1 - beta1 ** step),
      bias_correction2_sqrt: Math.sqrt(1 - beta2 ** step),
    };
  },
  check(spec) {
    const betas = betasOf(spec);
    if (betas.length !== 2 || !betas.every((b) => Number.isFinite(b) && b >= 0 && b < 1)) throw optimizerOptionError('adamw', 'betas', betas, 'two numbers in [0, 1)');
    const eps = spec.eps ?? 1e-8;
    if (!(Number.isFinite(eps) && eps > 0)) throw optimizerOptionError('adamw', 'eps', spec.eps, 'a positive number');
    const decay = spec.weightDecay ?? 0.01;
    if (!(Number.isFinite(decay) && decay >= 0)) throw optimizerOptionError('adamw', 'weightDecay', spec.weightDecay, 'a number ≥ 0');
  },
  update(ctx, spec, weight, grad, state, scalars) {
    const [beta1, beta2] = betasOf(spec);
    const decayed = ctx.op('Mul', [weight, scalars.decay_factor!]);
    const m = ctx.op('Add', [ctx.op('Mul', [state[0]!, ctx.scalar(beta1)]), ctx.op('Mul', [grad, ctx.scalar(1 - beta1)])]);
    const v = ctx.op('Add', [ctx.op('Mul', [state[1]!, ctx.scalar(beta2)]), ctx.op('Mul', [ctx.op('Mul', [grad, grad]), ctx.scalar(1 - beta2)])]);
    const denominator = ctx.op('Add', [ctx.op('Div', [ctx.op('Sqrt', [v]), scalars.bias_correction2_sqrt!]), ctx.scalar(spec.eps ?? 1e-8)]);
    const updated = ctx.op('Sub', [decayed, ctx.op('Mul', [ctx.op('Div', [m, denominator]), scalars.step_size!])]);
    return { weight: updated, state: [m, v] };
  },
});
