/**
 * The runtime that judges a check: ONNX Runtime on the model's ONNX bytes, or — only for a model ORT
 * cannot run (an op it lacks) — modelpass's reference interpreter, with a note saying why. The
 * reference outputs of the original are computed once per engine and kept.
 */
import type { Tensor } from '@modelpass/ir';
import { decodeOnnx } from '@modelpass/onnx';
import { inferShapes } from '@modelpass/ops';
import { OrtRunner, ReferenceEngine, type Engine } from '@modelpass/runtime';

export type RefereeEngine = 'onnxruntime' | 'reference';

export interface RefereeRun {
  readonly engine: RefereeEngine;
  readonly outputs: Map<string, Tensor>;
  /** Why the reference interpreter ran instead of ONNX Runtime. */
  readonly note?: string;
}

function messageOf(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0]!;
}

/**
 * ORT's ways of saying it lacks a kernel or an op (a runtime gap the interpreter may fill), as opposed
 * to refusing the model itself (a type error, a bad attribute: the model is broken, whatever runs it).
 */
const MISSING_OP = /Could not find an implementation|is not a registered function\/op|No Op registered|NOT_IMPLEMENTED|not implemented/i;

/** Whether ONNX Runtime's failure is a gap in ORT rather than a model it rejects as invalid. */
export function isMissingOpError(error: unknown): boolean {
  return MISSING_OP.test(error instanceof Error ? error.message : String(error));
}

export interface RefereeRunOptions {
  /**
   * When the interpreter may stand in for ORT: after any ORT failure (default; the input model), or
   * only when ORT lacks an op (a model a pass wrote: one ORT rejects as invalid is the pass's fault).
   */
  readonly fallback?: 'any-failure' | 'missing-op';
}

export class Referee {
  /**
   * Graph optimizations off: the check judges the graph as written. ORT 1.30's fusions can hide a
   * change (its LayerNormalization fusion matches Sub(mean, x) as if it were Sub(x, mean)).
   */
  private readonly ort = new OrtRunner({ maxSessions: 2, sessionOptions: { graphOptimizationLevel: 'disabled' } });
  private readonly reference = new ReferenceEngine();

  /** The engine behind a referee name (shared sessions; disposed with the referee). */
  engineFor(engine: RefereeEngine): Engine {
    return engine === 'onnxruntime' ? this.ort : this.reference;
  }

  /** Runs ONNX bytes on `engine`; the interpreter gets the decoded model with inferred shapes. */
  async runOn(engine: RefereeEngine, bytes: Uint8Array, feeds: ReadonlyMap<string, Tensor>, outputs?: readonly string[]): Promise<Map<string, Tensor>> {
    if (engine === 'onnxruntime') return this.engineFor(engine).run(bytes, feeds, outputs ? { outputs } : {});
    const model = decodeOnnx(bytes);
    inferShapes(model);
    return this.engineFor(engine).run(model, feeds, outputs ? { outputs } : {});
  }

  /** ONNX Runtime, or the interpreter when ORT fails on this model (the note says how ORT failed). */
  async run(bytes: Uint8Array, feeds: ReadonlyMap<string, Tensor>, outputs?: readonly string[], options: RefereeRunOptions = {}): Promise<RefereeRun> {
    try {
      return { engine: 'onnxruntime', outputs: await this.runOn('onnxruntime', bytes, feeds, outputs) };
    } catch (ortError) {
      if (options.fallback === 'missing-op' && !isMissingOpError(ortError)) throw new OrtRejection(ortError);
      try {
        const result = await this.runOn('reference', bytes, feeds, outputs);
        return { engine: 'reference', outputs: result, note: `ONNX Runtime could not run it (${messageOf(ortError)}); the reference interpreter did` };
      } catch {
        throw ortError;
      }
    }
  }

  async dispose(): Promise<void> {
    await this.ort.dispose();
    await this.reference.dispose();
  }
}

/** ONNX Runtime refused a model for being invalid (not for lacking an op); `cause` is its error. */
export class OrtRejection extends Error {
  constructor(readonly ortError: unknown) {
    super(messageOf(ortError));
    this.name = 'OrtRejection';
  }
}
