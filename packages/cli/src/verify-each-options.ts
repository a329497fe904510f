import { propagatedValues } from '@modelpass/ops';
import type { VerifyEachOptions } from '@modelpass/pass-manager';

/**
 * verify-each as convert and batch run it: the input check sees the data the model computes from known shapes, so a
 * declared output contradicting a Reshape target computed from Shape(x) is the input's stale declaration (a warning),
 * not the fault of the pass that folds the computation.
 */
export const VERIFY_EACH_WITH_KNOWN_VALUES: VerifyEachOptions = {
  knownValues: (model, registry) => propagatedValues(model, registry ? { registry } : {}),
};
