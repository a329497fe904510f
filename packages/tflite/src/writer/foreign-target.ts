import { formatLocation, type Model, type Node } from '@modelpass/ir';
import { TFLITE_DIALECT } from '../dialect/names.js';
import { tfliteError } from '../io/errors.js';

function describe(node: Node): string {
  const where = formatLocation({ ...node.location, file: undefined });
  const custom = node.getAttribute('custom_code');
  const what = custom?.kind === 'string' ? `custom op '${custom.value}' has no canonical equivalent` : 'not raised to a canonical op';
  return `${where}: ${what}`;
}

function noteLines(listed: readonly Node[], others: number, customFirst: boolean): string[] {
  const lines = listed.slice(0, 20).map(describe);
  if (listed.length > 20) lines.push(`… and ${listed.length - 20} more like these`);
  if (customFirst && others > 0) lines.push(`${others} other node${others > 1 ? 's are' : ' is'} TFLite builtin ops, not raised to canonical ops`);
  return lines;
}

/**
 * Refuses to hand a model with ops of the tflite dialect to a writer of another format (ONNX, …):
 * one ModelpassError naming every such node, custom ops (which nothing can map) first.
 */
export function assertNoTfliteOps(model: Model, path: string, target: string): void {
  const nodes: Node[] = [];
  const visit = (graph: Model['graph']): void => {
    for (const node of graph.allNodes()) if (node.dialect === TFLITE_DIALECT) nodes.push(node);
  };
  visit(model.graph);
  for (const fn of model.functions) visit(fn.body);
  if (nodes.length === 0) return;
  const custom = nodes.filter((node) => node.opType === 'CUSTOM');
  const ordered = [...custom, ...nodes.filter((node) => node.opType !== 'CUSTOM')];
  const names = [...new Set(custom.map((node) => node.attr('custom_code', 'string', '?')))];
  throw tfliteError({
    reason:
      custom.length > 0
        ? `cannot write '${path}' as ${target}: TFLite custom op${names.length > 1 ? 's' : ''} ${names.map((n) => `'${n}'`).join(', ')} (node ${custom.map((n) => `'${n.name}'`).slice(0, 5).join(', ')}) ha${custom.length > 1 ? 've' : 's'} no ${target} equivalent`
        : `cannot write '${path}' as ${target}: ${nodes.length} node${nodes.length > 1 ? 's are' : ' is'} still TFLite ops`,
    location: { file: path, node: ordered[0]!.name, op: ordered[0]!.op },
    notes: noteLines(custom.length > 0 ? custom : nodes, nodes.length - custom.length, custom.length > 0),
    hint: custom.length > 0 ? 'a custom op needs its own implementation in the target; remove or replace the node first' : 'raise the model to canonical ops first (the TFLite → ONNX pipeline)',
    code: 'tflite/foreign-target',
  });
}
