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
  async run(bytes: Uint8Array, feeds: ReadonlyMap<string, Tensor>, outputs?: readonly string[]): Promise<RefereeRun> {
    try {
      return { engine: 'onnxruntime', outputs: await this.runOn('onnxruntime', bytes, feeds, outputs) };
    } catch (ortError) {
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
