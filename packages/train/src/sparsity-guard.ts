/**
 * Training updates every trainable weight: it keeps no pruning mask. A model pruned by
 * `prune-magnitude`/`prune-nm` and then fine-tuned by `train`/`distill` comes out dense, which the
 * pipeline would otherwise do without a word. `zeroFractions` records the exact-zero share of the
 * float weights before training; `lostSparsityWarning` names the weights whose zeros training filled,
 * with what to do instead.
 */
import type { Model } from '@modelpass/ir';

/** A weight counts as pruned when at least this share of it is exactly zero. */
export const PRUNED_ZERO_FRACTION = 0.25;

const FLOAT_DTYPES = new Set(['float32', 'float16', 'bfloat16', 'float64']);

/** The share of exact zeros of each float initializer of rank ≥ 2 (weights, not biases or statistics). */
export function zeroFractions(model: Model): Map<string, number> {
  const fractions = new Map<string, number>();
  for (const value of model.graph.constants) {
    const tensor = value.constant;
    if (!tensor || tensor.rank < 2 || tensor.size === 0 || !FLOAT_DTYPES.has(tensor.dtype)) continue;
    let zeros = 0;
    for (const v of tensor.toNumbers()) if (v === 0) zeros++;
    fractions.set(value.name, zeros / tensor.size);
  }
  return fractions;
}

/**
 * The warning to give when weights that were pruned before training (≥ 25% zeros) have lost at least
 * half of their zeros after it, or undefined. `pass` names the training pass in the message.
 */
export function lostSparsityWarning(pass: string, before: ReadonlyMap<string, number>, model: Model): string | undefined {
  const after = zeroFractions(model);
  const lost: string[] = [];
  for (const [name, fraction] of before) {
    if (fraction < PRUNED_ZERO_FRACTION) continue;
    const now = after.get(name);
    if (now !== undefined && now < fraction / 2) lost.push(`'${name}' ${percent(fraction)} → ${percent(now)}`);
  }
  if (lost.length === 0) return undefined;
  const shown = lost.length > 5 ? [...lost.slice(0, 5), `and ${lost.length - 5} more`] : lost;
  return (
    `${pass}: training filled the zeros of ${lost.length} pruned weight${lost.length > 1 ? 's' : ''} (zeros before → after: ${shown.join(', ')}); ` +
    `${pass} updates every weight and keeps no pruning mask, so the model is no longer sparse. ` +
    `To end sparse, prune after training (e.g. '${pass}{…},prune-magnitude{…}'), or prune-channels, which removes the channels instead of zeroing them`
  );
}

function percent(fraction: number): string {
  return `${(fraction * 100).toFixed(1)}%`;
}
