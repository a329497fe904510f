import { closestName } from '@modelpass/pass-manager';
import { UsageError } from './usage-error.js';

export interface FlagSpec {
  /**
   * `string` takes a value, `boolean` does not; `list` takes a value and may repeat; `optional` is
   * `--flag` (true) or `--flag=VALUE` (a string; never the next argument).
   */
  readonly type: 'string' | 'boolean' | 'list' | 'optional';
  readonly short?: string;
  readonly help: string;
  /** Shown in help as the value's name. */
  readonly valueName?: string;
}

export type FlagSpecs = Readonly<Record<string, FlagSpec>>;

export interface ParsedArgs {
  readonly positionals: string[];
  readonly flags: Map<string, string | boolean | string[]>;
}

/** Parses `--flag value`, `--flag=value`, `-o value`, `--no-flag` for boolean flags, and `--` to end flags. */
export function parseArgs(argv: readonly string[], specs: FlagSpecs, command: string): ParsedArgs {
  const positionals: string[] = [];
  const flags = new Map<string, string | boolean | string[]>();
  const shorts = new Map<string, string>();
  for (const [name, spec] of Object.entries(specs)) if (spec.short) shorts.set(spec.short, name);
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith('-') || arg === '-') {
      positionals.push(arg);
      continue;
    }
    let name: string;
    let inline: string | undefined;
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      name = eq >= 0 ? arg.slice(2, eq) : arg.slice(2);
      inline = eq >= 0 ? arg.slice(eq + 1) : undefined;
    } else {
      const short = shorts.get(arg.slice(1));
      if (!short) throw new UsageError(`unknown option '${arg}' for '${command}'`);
      name = short;
    }
    let spec = specs[name];
    if (!spec && name.startsWith('no-') && specs[name.slice(3)]?.type === 'boolean') {
      flags.set(name.slice(3), false);
      continue;
    }
    if (!spec) {
      const near = closestName(name, Object.keys(specs));
      throw new UsageError(`unknown option '--${name}' for '${command}'${near ? ` — did you mean '--${near}'?` : ''}`);
    }
    if (spec.type === 'optional') {
      flags.set(name, inline ?? true);
      continue;
    }
    if (spec.type === 'boolean') {
      if (inline !== undefined) {
        if (inline !== 'true' && inline !== 'false') throw new UsageError(`option '--${name}' takes true or false, got '${inline}'`);
        flags.set(name, inline === 'true');
      } else flags.set(name, true);
      continue;
    }
    const value = inline ?? argv[++i];
    if (value === undefined) throw new UsageError(`option '--${name}' needs a value (${spec.valueName ?? 'VALUE'})`);
    if (spec.type === 'list') {
      const list = (flags.get(name) as string[] | undefined) ?? [];
      list.push(value);
      flags.set(name, list);
    } else {
      // A single-value option given twice with different values: which one was meant is in doubt (QA s16: `-o a -o b`
      // wrote b, silently).
      const earlier = flags.get(name);
      if (typeof earlier === 'string' && earlier !== value) {
        throw new UsageError(`option '--${name}'${spec.short ? ` (-${spec.short})` : ''} is given twice ('${earlier}' and '${value}'); it takes one value`);
      }
      flags.set(name, value);
    }
  }
  return { positionals, flags };
}

export function flagString(args: ParsedArgs, name: string): string | undefined {
  const value = args.flags.get(name);
  return typeof value === 'string' ? value : undefined;
}

export function flagBoolean(args: ParsedArgs, name: string, fallback = false): boolean {
  const value = args.flags.get(name);
  return typeof value === 'boolean' ? value : fallback;
}

export function flagList(args: ParsedArgs, name: string): string[] {
  const value = args.flags.get(name);
  return Array.isArray(value) ? value : [];
}

export function formatHelp(usage: string, summary: string, specs: FlagSpecs): string {
  const lines = [`usage: ${usage}`, '', summary, ''];
  const entries = Object.entries(specs);
  if (entries.length) lines.push('options:');
  for (const [name, spec] of entries) {
    const value = spec.type === 'boolean' ? '' : spec.type === 'optional' ? `[=${spec.valueName ?? 'VALUE'}]` : ` ${spec.valueName ?? 'VALUE'}`;
    const head = `${spec.short ? `-${spec.short}, ` : '    '}--${name}${value}`;
    // A help text that already says so (input-shape, input-value) does not get a second '(repeatable)'.
    const repeatable = spec.type === 'list' && !/\brepeatable\b/.test(spec.help) ? ' (repeatable)' : '';
    lines.push(`  ${head.padEnd(34)} ${spec.help}${repeatable}`);
  }
  return lines.join('\n');
}
