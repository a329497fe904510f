import { ModelpassError, type DiagnosticInit } from '@modelpass/ir';

/** A `ModelpassError` raised by this package (its `source` is `@modelpass/runtime`). */
export function runtimeError(init: Omit<DiagnosticInit, 'source'>): ModelpassError {
  return new ModelpassError({ ...init, source: '@modelpass/runtime' });
}

/** The message of anything thrown, for wrapping foreign errors into diagnostics. */
export function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
