/** Errors of the distributed package: `ModelpassError`s that name the queue, job, file or option. */
import { ModelpassError, type DiagnosticInit } from '@modelpass/ir';

export function distributedError(init: Omit<DiagnosticInit, 'source'> & { code?: string }): ModelpassError {
  return new ModelpassError({ code: 'distributed/error', ...init, source: '@modelpass/distributed' });
}

/** The message of anything thrown (a ModelpassError's formatted diagnostics, an Error's message). */
export function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
