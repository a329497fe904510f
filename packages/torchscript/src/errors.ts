import { ModelpassError, type DiagnosticInit } from '@modelpass/ir';

/** Code of every error a damaged or hostile TorchScript archive raises (the fuzz test's contract). */
export const TORCHSCRIPT_ERROR_SOURCE = '@modelpass/torchscript';

/**
 * Code of the error `readTorchScript` raises when input shapes/dtypes are given by names the root
 * module's `forward` does not take (a caller can retry binding them by position on this code).
 */
export const TORCHSCRIPT_UNKNOWN_INPUT_NAME = 'torchscript/unknown-input-name';

/** A ModelpassError raised by this package. */
export function torchscriptError(init: Omit<DiagnosticInit, 'source'>): ModelpassError {
  return new ModelpassError({ ...init, source: TORCHSCRIPT_ERROR_SOURCE });
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
