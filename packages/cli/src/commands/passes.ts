import { ANCHORS, describeOptionSpec, describePasses, type AnchorDefinition } from '@modelpass/pass-manager';
import { flagBoolean, flagList } from '../args.js';
import type { Command } from '../command.js';
import { environmentWithPlugins } from '../environment.js';

export const passesCommand: Command = {
  name: 'passes',
  usage: 'modelpass passes [--json] [--plugin P]...',
  summary: 'List every registered pass with its options and help (built-in passes plus those of the loaded plugins).',
  flags: {
    json: { type: 'boolean', help: 'print JSON' },
    plugin: { type: 'list', help: 'load a plugin by npm package name or path', valueName: 'P' },
  },
  async run(args, io) {
    const environment = await environmentWithPlugins(flagList(args, 'plugin'), io);
    const passes = describePasses(environment.passes);
    if (flagBoolean(args, 'json')) {
      io.stdout(JSON.stringify(passes, null, 2));
      return 0;
    }
    const lines: string[] = [...anchorLines(), '', 'passes:'];
    for (const pass of passes) {
      lines.push(`${pass.name}  —  ${pass.summary}${pass.owner ? `  [${pass.owner}]` : ''}`);
      for (const option of pass.options) {
        const bits: string[] = [option.kind];
        if (option.default !== undefined) bits.push(`default ${JSON.stringify(option.default)}`);
        if (option.values) bits.push(`one of ${option.values.join('|')}`);
        if (option.min !== undefined || option.max !== undefined) bits.push(`in [${option.min ?? '-∞'}, ${option.max ?? '∞'}]`);
        lines.push(`    ${option.name} (${bits.join(', ')})${option.help ? `: ${option.help}` : ''}`);
      }
      if (pass.statistics.length) lines.push(`    statistics: ${pass.statistics.join(', ')}`);
    }
    io.stdout(lines.join('\n'));
    return 0;
  },
};

const kebab = (name: string): string => name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

/** The pipeline anchors (`repeat`, `fixed-point`): not passes, but what nests a pipeline inside one. */
function anchorLines(): string[] {
  const lines = ['pipeline anchors (they hold a nested pipeline: name{options}(a,b); see modelpass help convert):'];
  for (const anchor of ANCHORS.values()) lines.push(...describeAnchor(anchor));
  return lines;
}

function describeAnchor(anchor: AnchorDefinition): string[] {
  const required = anchor.required.map((name) => `${kebab(name)}=N`).join(' ');
  const lines = [`${anchor.name}${required ? `{${required}}` : ''}(…)  —  ${anchor.summary}`];
  for (const [name, spec] of Object.entries(anchor.options)) {
    const when = anchor.required.includes(name) ? 'required' : spec.default !== undefined ? `default ${JSON.stringify(spec.default)}` : 'optional';
    lines.push(`    ${kebab(name)} (${describeOptionSpec(spec)}, ${when})${spec.help ? `: ${spec.help}` : ''}`);
  }
  return lines;
}
