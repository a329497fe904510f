import { ModelpassError, type Location } from '@modelpass/ir';

export const SOURCE = '@modelpass/onnx';

export interface OnnxErrorInit {
  readonly reason: string;
  readonly location?: Location;
  readonly expected?: string;
  readonly actual?: string;
  readonly hint?: string;
  readonly cause?: unknown;
  readonly code?: string;
}

/** A `ModelpassError` raised by the ONNX frontend or backend. */
export function onnxError(init: OnnxErrorInit): ModelpassError {
  return new ModelpassError({ ...init, source: SOURCE });
}

/** Runs `body`; any exception that is not already a ModelpassError becomes one located at `location`. */
export function withOnnxErrors<T>(reason: string, location: Location | undefined, body: () => T): T {
  try {
    return body();
  } catch (error) {
    if (ModelpassError.is(error)) throw error;
    const message = error instanceof Error ? error.message : String(error);
    throw onnxError({ reason: `${reason}: ${message}`, location, cause: error });
  }
}
