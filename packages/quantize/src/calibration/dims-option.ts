/**
 * The `dims=[len:16, H:32]` option of the passes that calibrate (quantize-static, quantize-weights' GPTQ):
 * sizes of symbolic input dimensions for seeded random calibration inputs. The model itself keeps them
 * symbolic (`convert --input-shape` would fix them in the written model too).
 */
import { option } from '@modelpass/pass-manager';
import { calibrationError } from './options.js';

export const dimsOption = option.list(option.string({}), {
  default: [],
  help: 'random calibration inputs: sizes of symbolic input dims other than the batch, e.g. [len:16] (the model keeps them symbolic); ignored with dataset=',
});

/** `['len:16', 'H:32']` → `{ len: 16, H: 32 }`; an entry that is not NAME:INTEGER≥1 (or NAME=INTEGER, quoted) is refused naming the pass and the option. */
export function parseDimsOption(entries: readonly string[], pass: string): Record<string, number> {
  const dims: Record<string, number> = {};
  for (const entry of entries) {
    const match = /^\s*([^=:\s]+)\s*[:=]\s*(\S+)\s*$/.exec(entry);
    const size = match ? Number(match[2]) : NaN;
    if (!match || !Number.isInteger(size) || size < 1) {
      throw calibrationError({
        reason: `option 'dims' of pass '${pass}': '${entry}' is not NAME:SIZE`,
        expected: 'NAME:SIZE with SIZE an integer ≥ 1, e.g. dims=[len:16]',
        actual: `'${entry}'`,
      });
    }
    dims[match[1]!] = size;
  }
  return dims;
}
