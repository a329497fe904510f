/**
 * A model whose own shape computation is impossible at its input shapes (a Reshape whose target is computed from
 * Shape(x) and does not fit x) is written by a plain `convert` as it is, since nothing folds the computation; a
 * pass that folds it (`simplify`) then makes the Reshape's target a constant, and verify-each blamed the pass
 * ("pass 'simplify' left the IR invalid"). When a pass fails at a node that shape inference already refuses on
 * the input as read, the failure is the model's: this says so, naming the node and what computes its target.
 * An input verify-each refused before any pass ran (a Reshape to a constant target that cannot fit) keeps that
 * error: no pass ran, nothing was folded.
 */
import { ModelpassError, type DiagnosticInit, type Model, type Node, type Value } from '@modelpass/ir';
import { inferShapes } from '@modelpass/ops';

/** At most this many nodes of the computation are named. */
const NAMED_PRODUCERS = 6;

/**
 * `error` reworded when the node it fails at is refused by shape inference on the input as read (`readInput`
 * reads it again); otherwise `error` itself. Reading or inferring the input again failing leaves `error` as it is.
 */
export async function blameModelShapeComputation(error: unknown, readInput: () => Promise<Model>): Promise<unknown> {
  if (!ModelpassError.is(error)) return error;
  // verify-each refused the input before any pass ran: that error already blames the model, and no pass folded anything.
  if (error.diagnostics.some((d) => d.code === 'verify-each/invalid-input')) return error;
  const failedNodes = new Set(error.diagnostics.map((d) => d.location?.node).filter((name): name is string => name !== undefined));
  if (failedNodes.size === 0) return error;
  let input: Model;
  let refusals: DiagnosticInit[];
  try {
    input = await readInput();
    refusals = inferShapes(input).diagnostics.filter((d) => d.severity === 'error' && d.location?.node !== undefined && failedNodes.has(d.location.node));
  } catch {
    return error;
  }
  const refusal = refusals[0];
  if (!refusal) return error;
  const node = input.graph.nodeList().find((n) => n.name === refusal.location!.node);
  if (!node) return error;
  const passName = (error as { passName?: unknown }).passName;
  const pass = typeof passName === 'string' ? `pass '${passName}'` : 'the pipeline';
  const op = node.op.replace(/^onnx\./, '');
  const computed = node.op === 'onnx.Reshape' && node.inputs[1] ? computedBy(node.inputs[1]) : [];
  const how = computed.length > 0
    ? `its target shape is computed by the model itself (${computed.join(', ')}), and at these input shapes that computation gives an impossible target`
    : 'the model\'s own shapes already make it impossible';
  return new ModelpassError([
    {
      reason: `${op} '${node.name}' cannot run on this model's input shapes: ${how}; ${pass} only made that visible (it folded the computation to constants), the model is at fault, not the pass`,
      source: '@modelpass/cli',
      code: 'cli/model-shape-computation',
      location: refusal.location!,
      notes: error.diagnostics[0]?.notes ?? [],
      hint: 'ONNX Runtime refuses this node at these shapes too: fix the model\'s shape computation, or give input shapes it fits (--input-shape NAME=DIMS)',
    },
    refusal,
  ]);
}

/** The nodes computing `value` back to graph inputs and constants (Shape, Slice, Concat, …), in graph order, named by op and name. */
function computedBy(value: Value): string[] {
  const seen = new Set<Node>();
  const pending: Value[] = [value];
  while (pending.length > 0) {
    const producer = pending.pop()!.producer;
    if (!producer || seen.has(producer) || producer.op === 'onnx.Constant') continue;
    seen.add(producer);
    // A Shape reads its data only for its shape: the computation stops there.
    if (producer.op === 'onnx.Shape' || producer.op === 'onnx.Size') continue;
    for (const input of producer.inputs) if (input && input.constant === undefined) pending.push(input);
  }
  const position = new Map(value.graph.nodeList().map((n, i) => [n, i] as const));
  const named = [...seen].sort((a, b) => (position.get(a) ?? 0) - (position.get(b) ?? 0)).map((n) => `${n.op.replace(/^onnx\./, '')} '${n.name}'`);
  return named.length > NAMED_PRODUCERS ? [...named.slice(0, NAMED_PRODUCERS), `and ${named.length - NAMED_PRODUCERS} more`] : named;
}
