/** Opaque `aten.*` nodes (kept by the TorchScript importer when it has no lowering) written back as the `torch.*` calls they were. */
import { pyFloat, pyInts, type OpEmitter } from './emit-context.js';

/** An opaque `aten.<name>` node from the importer, written back as the `torch.<name>(…)` call it was. */
export const opaqueAten: OpEmitter = (e, node) => {
  const positional: string[] = [];
  const keywords: string[] = [];
  const literal = (name: string): string | undefined => {
    const inputIndex = node.optionalAttr(`${name}_input`, 'int');
    if (inputIndex !== undefined) return e.name(node.inputs[inputIndex] ?? null);
    const attribute = node.getAttribute(name);
    if (!attribute) return undefined;
    switch (attribute.kind) {
      case 'int':
        return String(attribute.value);
      case 'float':
        return pyFloat(attribute.value as number);
      case 'string':
        return JSON.stringify(attribute.value);
      case 'ints':
        return pyInts(attribute.value as number[]);
      case 'floats':
        return `[${(attribute.value as number[]).map(pyFloat).join(', ')}]`;
      default:
        return e.fail(node, `attribute ${name} of kind ${attribute.kind}`);
    }
  };
  const names = new Set<string>();
  for (const [name] of node.attributes) names.add(name.replace(/_input$/, ''));
  const count = Math.max(-1, ...[...names].map((name) => /^arg(\d+)$/.exec(name)).filter((m) => m).map((m) => Number(m![1]))) + 1;
  for (let i = 0; i < count; i++) positional.push(literal(`arg${i}`) ?? 'None');
  for (const name of names) if (!/^arg\d+$/.test(name)) keywords.push(`${name}=${literal(name)}`);
  e.assign(node, `torch.${node.op.slice('aten.'.length)}(${[...positional, ...keywords].join(', ')})`);
};
