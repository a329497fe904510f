/**
 * What a `full-integer=true` quantization still leaves float, node by node, and the warning that names it:
 * the nodes the plan left float (with the plan's reason) and those whose op has no integer rule here.
 * A full-integer target (legalize-tflite{full-integer=true}) refuses a model with any of them.
 */
import type { StaticQuantizationResult } from './quantize-static.js';

export interface FullIntegerLeftFloat {
  readonly node: string;
  readonly op: string;
  readonly reason: string;
}

/** ORT kernels with integer inputs and a float output (see quantize-static.ts `kernelOf`). */
const FLOAT_OUTPUT_KERNELS: ReadonlySet<string> = new Set(['MatMulIntegerToFloat', 'QGemm (float output)']);

/** How many nodes the warning names before "and N more". */
const NAMED_IN_WARNING = 12;

/** Every node that computes float32 in the quantized model, with why; in the order of `nodeOrder` (node names in graph order) when given. */
export function fullIntegerLeftFloat(result: Pick<StaticQuantizationResult, 'leftFloat' | 'unsupportedNodes' | 'nodes'>, nodeOrder: readonly string[] = []): FullIntegerLeftFloat[] {
  const entries = [
    // Integer inputs, float output (ORT's MatMulIntegerToFloat / QGemm with a float output): an int8-only runtime has no such kernel.
    ...result.nodes
      .filter((entry) => FLOAT_OUTPUT_KERNELS.has(entry.kernel))
      .map((entry) => ({ node: entry.node, op: entry.op, reason: `its inputs are quantized but its output stays float (no quantized op reads it; ORT: ${entry.kernel}), which an int8-only runtime runs in float` })),
    ...result.leftFloat.map((entry) => ({ node: entry.node, op: entry.op, reason: entry.reason })),
    ...result.unsupportedNodes.map((entry) => ({ node: entry.node, op: entry.op, reason: `quantize-static has no integer rule for ${entry.op} (ORT has no QDQ kernel it fuses)` })),
  ];
  const position = new Map(nodeOrder.map((name, index) => [name, index] as const));
  const at = (name: string) => position.get(name) ?? Number.MAX_SAFE_INTEGER;
  return entries.map((entry, index) => ({ entry, index })).sort((a, b) => at(a.entry.node) - at(b.entry.node) || a.index - b.index).map(({ entry }) => entry);
}

/** The warning of full-integer=true when nodes stay float: each named with its reason (the first NAMED_IN_WARNING). */
export function describeFullIntegerLeftFloat(entries: readonly FullIntegerLeftFloat[]): { reason: string; hint: string } {
  const named = entries.slice(0, NAMED_IN_WARNING).map((entry) => `${entry.op} '${entry.node}' (${entry.reason})`);
  const more = entries.length > NAMED_IN_WARNING ? `; and ${entries.length - NAMED_IN_WARNING} more (--debug lists each)` : '';
  return {
    reason: `full-integer: ${entries.length} node(s) stay float32, so the model is not full-integer: ${named.join('; ')}${more}`,
    hint: 'a full-integer target (legalize-tflite{full-integer=true}) refuses this model; ops without an integer rule stay float in every int8 runtime here — replace them (e.g. fold a normalization into a Conv) or accept float ops (legalize-tflite without full-integer runs them between DEQUANTIZE and QUANTIZE)',
  };
}
