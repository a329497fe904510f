import { ModelpassError, type DiagnosticInit } from '@modelpass/ir';
import type { PassOwner } from './pass-registry.js';

/**
 * A pass failed: it threw, or the IR it left behind did not verify. Carries the pass's name and,
 * when the pass came from a plugin, the plugin's; the original error is the `cause`.
 */
export class PassFailure extends ModelpassError {
  readonly passName: string;
  readonly owner: PassOwner | undefined;

  constructor(passName: string, owner: PassOwner | undefined, init: DiagnosticInit | readonly DiagnosticInit[]) {
    super(init);
    this.name = 'ModelpassError';
    this.passName = passName;
    this.owner = owner;
  }

  /** The plugin the pass came from, if any. */
  get plugin(): string | undefined {
    return this.owner?.plugin?.name;
  }
}

/** `pass 'prune'` or `pass 'prune' from plugin 'p'@1.0.0`. */
export function describePass(passName: string, owner: PassOwner | undefined): string {
  return owner?.plugin ? `pass '${passName}' from plugin '${owner.plugin.name}'@${owner.plugin.version}` : `pass '${passName}'`;
}

function errorText(error: unknown): string {
  if (error instanceof Error) return error.message || error.name;
  if (typeof error === 'string') return error;
  try {
    return `a thrown ${typeof error}: ${JSON.stringify(error)}`;
  } catch {
    return `a thrown ${typeof error}`;
  }
}

/** Wraps whatever a pass threw, keeping a ModelpassError's location and further diagnostics. */
export function wrapPassError(error: unknown, passName: string, owner: PassOwner | undefined): PassFailure {
  if (error instanceof PassFailure && error.passName === passName) return error;
  const who = describePass(passName, owner);
  const source = owner?.plugin?.name ?? owner?.name ?? '@modelpass/pass-manager';
  if (ModelpassError.is(error)) {
    const [first, ...rest] = error.diagnostics;
    return new PassFailure(passName, owner, [
      { ...first!, reason: `${who} failed: ${first!.reason}`, source: first!.source ?? source, code: first!.code ?? 'pass/failed', cause: error },
      ...rest,
    ]);
  }
  return new PassFailure(passName, owner, {
    reason: `${who} failed: ${errorText(error)}`,
    source,
    code: 'pass/failed',
    cause: error,
    ...(error instanceof Error && error.name !== 'Error' ? { notes: [`thrown as ${error.name}`] } : {}),
  });
}
