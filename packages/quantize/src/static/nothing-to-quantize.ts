/**
 * The warning quantize-static gives when its plan quantizes nothing in the main graph: which
 * Conv/MatMul/Gemm stayed float and by which rule, and the option setting that would quantize them
 * (`min-conv-reduction=0`, a shorter `exclude=`), instead of claiming there are no weighted ops.
 */
import type { LeftFloat } from './plan.js';
import { OP_RULES } from './op-rules.js';

/** How many weighted nodes the warning names before it says "and N more". */
const NAMED = 4;

export interface NothingToQuantize {
  readonly reason: string;
  readonly hint?: string;
}

function isWeighted(entry: LeftFloat): boolean {
  return OP_RULES.get(`onnx.${entry.op}`)?.role === 'weighted';
}

/** The warning for a plan without quantized nodes, from the plan's left-float entries. */
export function describeNothingToQuantize(leftFloat: readonly LeftFloat[]): NothingToQuantize {
  const weighted = leftFloat.filter(isWeighted);
  if (weighted.length === 0) return { reason: 'quantize-static found nothing to quantize (no Conv/MatMul/Gemm with float32 constant weights)' };
  const named = weighted.slice(0, NAMED).map((entry) => `${entry.op} '${entry.node}': ${entry.reason}`);
  if (weighted.length > NAMED) named.push(`and ${weighted.length - NAMED} more (--debug lists them)`);
  const reason = `quantize-static found nothing to quantize: ${weighted.length === 1 ? 'the only Conv/MatMul/Gemm stays' : `all ${weighted.length} Conv/MatMul/Gemm stay`} float32 — ${named.join('; ')}`;
  const hints: string[] = [];
  const byCost = weighted.filter((entry) => entry.option === 'min-conv-reduction');
  if (byCost.length > 0) {
    hints.push(
      `quantize-static{min-conv-reduction=0} quantizes ${byCost.length === 1 ? `Conv '${byCost[0]!.node}'` : `these ${byCost.length} Convs`} too ` +
        '(slower in ONNX Runtime than the float Conv, but int8, e.g. for an int8 TFLite export)',
    );
  }
  const byExclude = weighted.filter((entry) => entry.option === 'exclude');
  if (byExclude.length > 0) {
    const them = byExclude.length === 1 ? 'it' : 'them';
    hints.push(`exclude= leaves ${byExclude.map((entry) => `'${entry.node}'`).join(', ')} float: take ${byExclude.length === 1 ? 'its name or op type' : 'their names or op types'} out of the list to quantize ${them}`);
  }
  return hints.length > 0 ? { reason, hint: hints.join('; ') } : { reason };
}
