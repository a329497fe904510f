import { ModelpassError, type Model } from '@modelpass/ir';
/** QOperator form (in progress): refuses clearly until the conversion lands. */
export function convertToQOperator(_model: Model): { converted: number } {
  throw new ModelpassError({ reason: 'format=qoperator is not finished yet', hint: 'use format=qdq (the default)', source: '@modelpass/quantize', code: 'quantize/static' });
}
