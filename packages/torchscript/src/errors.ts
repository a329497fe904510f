import { ModelpassError, type DiagnosticInit } from '@modelpass/ir';

/** Code of every error a damaged or hostile TorchScript archive raises (the fuzz test's contract). */
export const TORCHSCRIPT_ERROR_SOURCE = '@modelpass/torchscript';

/** A ModelpassError raised by this package. */
export function torchscriptError(init: Omit<DiagnosticInit, 'source'>): ModelpassError {
  return new ModelpassError({ ...init, source: TORCHSCRIPT_ERROR_SOURCE });
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
