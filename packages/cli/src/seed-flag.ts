/**
 * A seed flag's text checked once for compare, diff and convert --check: a non-negative integer that a number
 * holds exactly. Past 2^53 - 1 two seeds read as the same number (QA s16: `--seed 99999999999999999999999`
 * ran as seed 1e+23, the same inputs as ...998), so those are refused too.
 */
import { UsageError } from './usage-error.js';

export function checkSeedText(text: string | undefined, flag: string): void {
  if (text === undefined) return;
  if (!/^\d+$/.test(text)) throw new UsageError(`${flag} takes a non-negative integer, got '${text}'`);
  if (!Number.isSafeInteger(Number(text))) throw new UsageError(`${flag} takes a non-negative integer up to ${Number.MAX_SAFE_INTEGER} (2^53 - 1), got '${text}'`);
}
