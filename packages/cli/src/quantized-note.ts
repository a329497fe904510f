/**
 * A note for `compare` when a model that disagrees is quantized: compare's default tolerance is made
 * for float conversions, and an int8 model differs from its float original (or from another int8
 * runtime's rounding) by design, so a stranger is told how to judge it instead.
 */
import type { Model } from '@modelpass/ir';

const QUANTIZED_OPS = /[Qq]uantizeLinear$|^QLinear|Integer$|MatMulNBits$|BlockQuantized$|DynamicQuantize/;

/** Whether the model computes in quantized integers: Q/DQ, QOperator or integer ops, or quantized tensors (TFLite). */
export function isQuantizedModel(model: Model): boolean {
  for (const node of model.graph.allNodes()) {
    if (QUANTIZED_OPS.test(node.opType)) return true;
    for (const value of node.outputs) if (value?.type.kind === 'tensor' && value.type.quant) return true;
  }
  return false;
}

/** The note, or undefined when neither model is quantized. */
export function quantizedDisagreementNote(models: readonly { readonly model: Model; readonly path: string }[]): string | undefined {
  const quantized = models.filter((side) => isQuantizedModel(side.model)).map((side) => `'${side.path}'`);
  if (quantized.length === 0) return undefined;
  return (
    `${quantized.join(' and ')} ${quantized.length === 1 ? 'is' : 'are'} quantized: quantized outputs differ from float (and between runtimes' integer kernels) by quantization steps, ` +
    'beyond the default tolerance made for float conversions; judge them by the cosine and top-1 agreement above, by accuracy (modelpass eval), or with --atol/--rtol of a few quantization steps'
  );
}

/**
 * The note for `convert --check` when a pass left a quantized model outside the tolerance: the default is made for
 * float passes, so a quantizing pass "fails" it by design (QA s19: `-p 'simplify,quantize-dynamic' --check` on an LSTM
 * tagger stopped at quantize-dynamic, max abs 0.0039, with no word on how to check a quantization instead).
 */
export function quantizedCheckNote(passName: string, model: Model): string | undefined {
  if (!isQuantizedModel(model)) return undefined;
  return (
    `the model after '${passName}' is quantized: quantized outputs differ from float by quantization steps, beyond --check's default tolerance made for float passes; ` +
    'check it by accuracy (--check-dataset SPEC --check-accuracy-budget X) or with --check=ATOL,RTOL of a few quantization steps'
  );
}
