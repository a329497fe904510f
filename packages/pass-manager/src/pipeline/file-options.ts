/**
 * The option values of a pipeline that name files: string options (or lists of them) declared with
 * `files: 'read' | 'write'`. A pipeline someone else wrote — a crash reproducer's pipeline.txt — can name any path
 * there (`quantize-static{report=/home/you/.profile}` writes it), so whoever runs such a pipeline asks first.
 */
import { kebabCase, type OptionSpec } from '../option.js';
import { passSteps, type PipelineStep } from './pipeline.js';

export interface FileOptionUse {
  /** The pass, as pipeline text names it. */
  readonly pass: string;
  /** The option, kebab-case as pipeline text spells it. */
  readonly option: string;
  /** The file or folder as written. */
  readonly value: string;
  readonly access: 'read' | 'write';
  /** The pass's column in the pipeline text, when parsed from text. */
  readonly column?: number;
}

function fileAccess(spec: OptionSpec | undefined): 'read' | 'write' | undefined {
  if (spec?.kind === 'string') return spec.files;
  if (spec?.kind === 'list' && spec.element.kind === 'string') return spec.element.files;
  return undefined;
}

/** Every explicitly given, non-empty value of a file-naming option, in pipeline order (anchors' steps included). */
export function fileOptionUses(steps: readonly PipelineStep[]): FileOptionUse[] {
  const uses: FileOptionUse[] = [];
  for (const step of passSteps(steps)) {
    const specs = step.pass.options as Readonly<Record<string, OptionSpec>>;
    for (const [key, value] of Object.entries(step.options)) {
      const access = fileAccess(Object.hasOwn(specs, key) ? specs[key] : undefined);
      if (access === undefined) continue;
      for (const item of Array.isArray(value) ? value : [value]) {
        if (typeof item !== 'string' || item === '') continue;
        uses.push({ pass: step.pass.name, option: kebabCase(key), value: item, access, ...(step.column !== undefined ? { column: step.column } : {}) });
      }
    }
  }
  return uses;
}

/** `quantize-static report=/tmp/r.json (writes)`, one use per line item. */
export function describeFileOptionUse(use: FileOptionUse): string {
  return `${use.pass} ${use.option}=${JSON.stringify(use.value)} (${use.access === 'write' ? 'writes' : 'reads'})`;
}
