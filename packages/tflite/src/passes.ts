import type { OptionSpecs, Pass } from '@modelpass/pass-manager';
import { legalizeTflite } from './legalize/legalize-pass.js';
import { raiseTflite } from './raise/raise-pass.js';

/** Every pass of @modelpass/tflite, for a pass registry (`environment.passes.register(tflitePasses, '@modelpass/tflite')`). */
export const tflitePasses: readonly Pass<OptionSpecs>[] = [legalizeTflite, raiseTflite] as readonly Pass<OptionSpecs>[];
