/**
 * What the page's UI (main.ts) and its engine worker (engine-worker.ts) say to each other. The
 * engine runs in a Web Worker so the page stays responsive while a large model is transformed.
 */
import type { PassDescription } from '@modelpass/pass-manager';
import type { ModelCounts, PassRow } from './pipeline-runner.js';

export type ToEngine =
  | { readonly type: 'run'; readonly bytes: Uint8Array; readonly fileName: string; readonly pipeline: string }
  | { readonly type: 'check' };

export interface CheckRow {
  readonly output: string;
  /** The largest absolute error, or why the output was not compared ("shape [1,16] → [1,12]"). */
  readonly difference: string;
  readonly cosine: number | null;
  readonly withinTolerance: boolean;
}

export type FromEngine =
  | { readonly type: 'passes'; readonly passes: readonly Pick<PassDescription, 'name' | 'summary'>[] }
  | {
      readonly type: 'ran';
      readonly output: Uint8Array;
      readonly before: ModelCounts;
      readonly after: ModelCounts;
      readonly passes: readonly PassRow[];
      readonly totalMs: number;
      readonly warnings: readonly string[];
    }
  | {
      readonly type: 'checked';
      readonly rows: readonly CheckRow[];
      readonly withinTolerance: boolean;
      /** "max abs error 1.20e-7", or which outputs were not compared and why. */
      readonly detail: string;
      readonly inputs: readonly { readonly name: string; readonly shape: readonly number[] }[];
      readonly ms: number;
    }
  | { readonly type: 'error'; readonly message: string };
