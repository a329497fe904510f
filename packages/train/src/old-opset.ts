/**
 * Autodiff writes opset-13 ops (ReduceSum and Unsqueeze with axes inputs, …), so a model below onnx opset 13
 * is upgraded first, the way quantize upgrades one for QuantizeLinear: with the shared upgrade of
 * `@modelpass/transforms` (opsets 7–12, when every node means the same at 13) and its warning, else refused
 * naming the nodes that keep the model at its opset.
 */
import type { Model } from '@modelpass/ir';
import type { OptionSpecs, PassContext } from '@modelpass/pass-manager';
import { upgradeOldOpset } from '@modelpass/transforms';

/** The oldest onnx opset autodiff writes into (`buildGradientGraph` refuses older models). */
export const AUTODIFF_MIN_OPSET = 13;

/** Upgrades `model` in place to opset 13 for the train and distill passes, with the shared warning; throws when it cannot. */
export function upgradeForAutodiff(model: Model, context: PassContext<OptionSpecs>): void {
  upgradeOldOpset(
    model,
    { registry: context.registry, passName: context.passName, report: (diagnostic) => context.report(diagnostic), source: '@modelpass/train' },
    AUTODIFF_MIN_OPSET,
    'the opset-13 ops autodiff writes into the training graph',
  );
}
