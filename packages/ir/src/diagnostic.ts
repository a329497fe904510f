/**
 * Diagnostics in the manner of vfile-message: a reason, a location, what was expected and what was
 * found, notes and a hint. Every error modelpass reports on bad input is a `ModelpassError`
 * carrying one of these, never a bare stack trace.
 */

/** Where something is: a file position, a node, a path through nested graphs. */
export interface Location {
  readonly file?: string;
  readonly line?: number;
  readonly column?: number;
  /** The node's name, when the diagnostic is about a node. */
  readonly node?: string;
  /** The op of that node, e.g. `onnx.Conv`. */
  readonly op?: string;
  /** Path through subgraphs, e.g. `main/If_3.then_branch/Add_1`. */
  readonly path?: string;
}

export type Severity = 'error' | 'warning' | 'info';

export interface DiagnosticInit {
  readonly reason: string;
  readonly severity?: Severity;
  readonly location?: Location;
  /** The package that raised it, e.g. `@modelpass/onnx`. */
  readonly source?: string;
  /** A stable machine-readable code, e.g. `verify/undefined-value`. */
  readonly code?: string;
  readonly expected?: string;
  readonly actual?: string;
  readonly notes?: readonly string[];
  readonly hint?: string;
  readonly cause?: unknown;
}

export interface Diagnostic extends DiagnosticInit {
  readonly severity: Severity;
}

export function diagnostic(init: DiagnosticInit): Diagnostic {
  return { severity: 'error', ...init };
}

export function formatLocation(location: Location | undefined): string {
  if (!location) return '';
  const parts: string[] = [];
  if (location.file) {
    let where = location.file;
    if (location.line !== undefined) {
      where += `:${location.line}`;
      if (location.column !== undefined) where += `:${location.column}`;
    }
    parts.push(where);
  } else if (location.line !== undefined) {
    parts.push(`${location.line}${location.column !== undefined ? `:${location.column}` : ''}`);
  }
  if (location.node !== undefined || location.op !== undefined) {
    const name = location.node ? `'${location.node}'` : '';
    const op = location.op ? `(${location.op})` : '';
    parts.push(`node ${name}${name && op ? ' ' : ''}${op}`);
  }
  if (location.path) parts.push(`at ${location.path}`);
  return parts.join(', ');
}

/** One diagnostic as text: `file:3:7, node 'conv1' (onnx.Conv): reason (expected X, got Y)`. */
export function formatDiagnostic(d: DiagnosticInit): string {
  const where = formatLocation(d.location);
  let text = where ? `${where}: ${d.reason}` : d.reason;
  if (d.expected !== undefined || d.actual !== undefined) {
    const bits: string[] = [];
    if (d.expected !== undefined) bits.push(`expected ${d.expected}`);
    if (d.actual !== undefined) bits.push(`got ${d.actual}`);
    text += ` (${bits.join(', ')})`;
  }
  for (const note of d.notes ?? []) text += `\n  note: ${note}`;
  if (d.hint) text += `\n  hint: ${d.hint}`;
  return text;
}

/**
 * The one error type modelpass throws for bad input (a model, a pipeline, an option, a plugin).
 * `diagnostics` holds every problem found; `message` is their text.
 */
export class ModelpassError extends Error {
  readonly diagnostics: readonly Diagnostic[];

  constructor(init: DiagnosticInit | readonly DiagnosticInit[]) {
    const list = (Array.isArray(init) ? init : [init]).map((d: DiagnosticInit) => diagnostic(d));
    const first = list[0];
    const message =
      list.length === 0
        ? 'unknown error'
        : list.length === 1
          ? formatDiagnostic(first!)
          : `${list.length} problems:\n` + list.map((d) => '- ' + formatDiagnostic(d)).join('\n');
    super(message, first?.cause !== undefined ? { cause: first.cause } : undefined);
    this.name = 'ModelpassError';
    this.diagnostics = list;
  }

  get reason(): string {
    return this.diagnostics[0]?.reason ?? this.message;
  }

  get location(): Location | undefined {
    return this.diagnostics[0]?.location;
  }

  static is(error: unknown): error is ModelpassError {
    return error instanceof ModelpassError || (error instanceof Error && error.name === 'ModelpassError');
  }
}
