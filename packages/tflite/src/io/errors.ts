import { ModelpassError, type Location } from '@modelpass/ir';

export const SOURCE = '@modelpass/tflite';

export interface TfliteErrorInit {
  readonly reason: string;
  readonly location?: Location;
  readonly expected?: string;
  readonly actual?: string;
  readonly hint?: string;
  readonly notes?: readonly string[];
  readonly cause?: unknown;
  readonly code?: string;
}

/** A `ModelpassError` raised by the TFLite reader or writer. */
export function tfliteError(init: TfliteErrorInit): ModelpassError {
  return new ModelpassError({ ...init, source: SOURCE });
}
