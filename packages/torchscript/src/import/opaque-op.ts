/**
 * An aten op with no lowering stays in the graph as an opaque `aten.<name>` node (tensor arguments
 * as inputs, constant ones as attributes `arg<i>`), located at its TorchScript call, so a pipeline
 * can carry it and a backend can name exactly what it cannot run.
 */
import { attrs, type Attribute, type Value } from '@modelpass/ir';
import { torchscriptError } from '../errors.js';
import type { LoweringContext } from './lowering.js';
import type { ScriptValue } from './script-value.js';

function asAttribute(value: ScriptValue): Attribute | 'none' | undefined {
  switch (value.kind) {
    case 'none':
      return 'none';
    case 'int':
    case 'bool':
      return attrs.int(Number(value.value));
    case 'float':
      return attrs.float(value.value);
    case 'str':
      return attrs.string(value.value);
    case 'list':
    case 'tuple':
      if (value.items.every((item) => item.kind === 'int' || item.kind === 'bool')) return attrs.ints(value.items.map((item) => Number((item as { value: number | boolean }).value)));
      if (value.items.every((item) => item.kind === 'int' || item.kind === 'float')) return attrs.floats(value.items.map((item) => (item as { value: number }).value));
      return undefined;
    default:
      return undefined;
  }
}

/** Emits `aten.<name>` with one output, or undefined when an argument has no IR spelling (a module, a tensor list). */
export function opaqueAtenOp(ctx: LoweringContext, args: readonly ScriptValue[], keywords: ReadonlyMap<string, ScriptValue>): ScriptValue | undefined {
  const inputs: Value[] = [];
  const attributes: Record<string, Attribute> = {};
  const all: Array<[string, ScriptValue]> = [...args.map((arg, i) => [`arg${i}`, arg] as [string, ScriptValue]), ...keywords];
  for (const [key, value] of all) {
    if (value.kind === 'tensor') {
      attributes[`${key}_input`] = attrs.int(inputs.length);
      inputs.push(value.value);
      continue;
    }
    const attribute = asAttribute(value);
    if (attribute === undefined) return undefined;
    if (attribute !== 'none') attributes[key] = attribute;
  }
  const node = ctx.builder.node(`aten.${ctx.op}`, inputs, attributes, { loc: { file: ctx.at.file, line: ctx.at.line, column: ctx.at.column } });
  return { kind: 'tensor', value: node.output(0) };
}

/**
 * Refuses a model that still holds opaque `aten.*` ops before a backend without them writes it,
 * naming each op and its TorchScript source location.
 */
export function assertNoAtenOps(model: { graph: { nodes(): Iterable<{ op: string; name: string; loc?: { file?: string; line?: number; column?: number } | undefined }> } }, path: string, format: string): void {
  const found: string[] = [];
  for (const node of model.graph.nodes()) {
    if (!node.op.startsWith('aten.')) continue;
    const where = node.loc?.file ? ` at ${node.loc.file}:${node.loc.line ?? '?'}:${node.loc.column ?? '?'}` : '';
    found.push(`${node.op} (node '${node.name}'${where})`);
  }
  if (found.length === 0) return;
  throw torchscriptError({
    reason: `cannot write ${path} as ${format}: ${found.length} TorchScript op(s) have no ${format} lowering: ${found.slice(0, 20).join('; ')}${found.length > 20 ? '; …' : ''}`,
    location: { file: path },
    code: 'torchscript/opaque-op',
    hint: 'write it back as TorchScript (.pt), or add a lowering in packages/torchscript/src/import/aten/',
  });
}
