/**
 * Calibration statistics computed inside ONNX Runtime: the model is written once with, for each
 * calibrated float32 activation x, a few reduction nodes appended, so that a run returns per tensor
 * only its min, max, sum (a finiteness check), element count and, for histogram methods, the bin
 * counts — never the activation itself. Nothing proportional to the samples or to the activation
 * size crosses into JavaScript, so no per-run garbage piles up in V8 (before, every run copied all
 * requested activations out of ORT: a peak RSS that stepped up once a calibration ran long enough
 * for V8 to hold ~64 MB of such garbage).
 *
 * The histogram is the one `HistogramStatistics` keeps (bins of one power-of-two width w centred
 * on zero), counted by `ScatterElements(reduction=add)` at index floor(x · (1/w)) (negative
 * indices count from the end, so the reader rotates the counts by `bins`), computed in float32: exact (1/w is a power of two) — the same bins the JavaScript loop gives.
 * The width is fed (the histogram's current width) and widened in the graph to the smallest power
 * of two holding this run's largest magnitude, so one run per part suffices; the JavaScript side
 * coarsens its counts to the returned width before adding (exact, see `HistogramStatistics`).
 *
 * `ScatterElements` with a reduction needs ONNX opset 16. A model of opset 13–15 is written as
 * opset 16 for calibration (the calibration copy only: no op's meaning changes between them except
 * RoiAlign's default `coordinate_transformation_mode`, so a model holding RoiAlign is not lifted);
 * other models keep the histogram in JavaScript (`ActivationCollector`). Parts whose summaries show
 * NaN, ±Infinity (or a float32 sum overflow) or magnitudes too small for a float32 bin width are
 * collected again from the activation itself, so results stay exactly those of the JavaScript path.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Builder, Tensor, claimTemporaryPath, releaseTemporaryPath, tensorType, type Model, type Node, type Value } from '@modelpass/ir';
import { writeOnnx } from '@modelpass/onnx';
import { OrtRunner } from '@modelpass/runtime';

type AttributeInits = Parameters<Builder['op1']>[2];

/** The first ONNX opset whose ScatterElements has `reduction`. */
const SCATTER_REDUCTION_OPSET = 16;
/** The lowest opset lifted to 16 for calibration (ReduceSum, Squeeze, Split and others take axes as inputs from 13 on, as in 16). */
const LIFTABLE_FROM_OPSET = 13;
/** Ops whose meaning differs between the lifted opsets and 16 (RoiAlign-16 changed a default). */
const NOT_LIFTABLE_OPS = new Set(['onnx.RoiAlign']);
/** Widths below this are not float32-exact as 1/w: such tensors are collected from their values. */
export const SMALLEST_GRAPH_WIDTH = 2 ** -100;

/** What one run says about one tensor. */
export interface TensorSummary {
  readonly min: number;
  readonly max: number;
  /** float32 sum of the values: finite exactly when every value is (unless the sum overflows). */
  readonly sum: number;
  readonly size: number;
  /** Histogram tensors: the width the counts are at, and the `2·bins` counts. */
  readonly width?: number;
  readonly counts?: Int32Array;
}

/** Whether the in-graph histogram can be used for `model`, and the opset to write it at. */
export function histogramOpset(model: Model): number | undefined {
  const opset = model.opset('onnx') ?? model.opset('') ?? undefined;
  if (opset === undefined) return undefined;
  if (opset >= SCATTER_REDUCTION_OPSET) return opset;
  if (opset < LIFTABLE_FROM_OPSET) return undefined;
  for (const node of model.graph.allNodes()) if (NOT_LIFTABLE_OPS.has(node.op)) return undefined;
  return SCATTER_REDUCTION_OPSET;
}

/** Names of the graph parts made for one tensor. */
interface TensorOutputs {
  readonly summary: string;
  readonly size: string;
  readonly counts?: string;
  readonly widthInput?: string;
}

/** Appends the summary (and histogram) nodes of `x` at the end of the graph; returns the output values. */
function appendStatistics(b: Builder, x: Value, bins: number | undefined): { summary: Value; size: Value; counts?: Value; widthInput?: Value } {
  const f32 = (v: number) => b.constant(Tensor.scalar('float32', v), 'calibration_const');
  const reduce = (op: string) => b.op1(op, [x], { keepdims: 0 }, { types: [tensorType('float32', [])] });
  const min = reduce('onnx.ReduceMin');
  const max = reduce('onnx.ReduceMax');
  const sum = reduce('onnx.ReduceSum');
  const size = b.op1('onnx.Size', [x], {}, { types: [tensorType('int64', [])] });
  const one = b.constant(Tensor.fromValues('int64', [1], [1n]), 'calibration_shape');
  const vector = (v: Value) => b.op1('onnx.Reshape', [v, one], {}, { types: [tensorType('float32', [1])] });
  const parts = [vector(min), vector(max), vector(sum)];
  if (bins === undefined) {
    const summary = b.op1('onnx.Concat', parts, { axis: 0 }, { types: [tensorType('float32', [3])] });
    return { summary, size };
  }
  const graph = x.producer?.graph ?? b.graph;
  const widthInput = graph.addInput(graph.uniqueName(`${x.name}__calibration_width`), tensorType('float32', []));
  const scalar = tensorType('float32', []);
  const op = (name: string, inputs: Value[], attributes: AttributeInits = {}, type = scalar) => b.op1(name, inputs, attributes, { types: [type] });
  // m = max|x|; w0 = 2^floor(log2(m / bins)), then corrected to the smallest power of two with m < bins·w
  // (float32's log may be one off near a power of two; bins·w is exact). m = 0 gives w = 0.
  const magnitude = op('onnx.Max', [op('onnx.Neg', [min]), max]);
  const binsValue = f32(bins);
  const log2 = op('onnx.Div', [op('onnx.Log', [op('onnx.Div', [magnitude, binsValue])]), f32(Math.LN2)]);
  let width = op('onnx.Pow', [f32(2), op('onnx.Floor', [log2])]);
  const fits = (w: Value) => op('onnx.Less', [magnitude, op('onnx.Mul', [w, binsValue])], {}, tensorType('bool', []));
  for (let i = 0; i < 2; i++) {
    const doubled = op('onnx.Mul', [width, f32(2)]);
    width = op('onnx.Where', [fits(width), width, doubled]);
  }
  const halved = op('onnx.Mul', [width, f32(0.5)]);
  width = op('onnx.Where', [fits(halved), halved, width]);
  width = op('onnx.Max', [width, widthInput]);
  const flat = b.op1('onnx.Reshape', [x, b.constant(Tensor.fromValues('int64', [1], [-1n]), 'calibration_flat')], {}, { types: [tensorType('float32', [null])] });
  const vectorType = tensorType('float32', [null]);
  // 1/w stays finite (w = 0 only while every value is 0, and 0·(1/w) must be 0 then).
  const inverse = op('onnx.Reciprocal', [op('onnx.Max', [width, f32(SMALLEST_GRAPH_WIDTH)])]);
  const floors = op('onnx.Floor', [op('onnx.Mul', [flat, inverse], {}, vectorType)], {}, vectorType);
  // floor(x/w) is in [−bins, bins) for finite x. NaN and ±Infinity cast to some int32 (x86 gives −2^31) that
  // Clip then keeps a valid index (such parts are redone from the values). Negative indices count from
  // the end: x ≥ 0 lands at floor(x/w), x < 0 at 2·bins + floor(x/w); the reader rotates by bins.
  const integers = b.op1('onnx.Cast', [floors], { to: 6 }, { types: [tensorType('int32', [null])] });
  const i32 = (v: number) => b.constant(Tensor.scalar('int32', v), 'calibration_const');
  const indices = b.op1('onnx.Clip', [integers, i32(-bins), i32(bins - 1)], {}, { types: [tensorType('int32', [null])] });
  const shape = b.op1('onnx.Shape', [flat], {}, { types: [tensorType('int64', [1])] });
  const ones = b.op1('onnx.ConstantOfShape', [shape], { value: Tensor.fromValues('int32', [1], [1]) }, { types: [tensorType('int32', [null])] });
  const zeros = b.constant(Tensor.fromValues('int32', [2 * bins], new Int32Array(2 * bins)), 'calibration_zeros');
  const counts = b.op1('onnx.ScatterElements', [zeros, indices, ones], { axis: 0, reduction: 'add' }, { types: [tensorType('int32', [2 * bins])] });
  const summary = b.op1('onnx.Concat', [...parts, vector(width)], { axis: 0 }, { types: [tensorType('float32', [4])] });
  return { summary, size, counts, widthInput };
}

/** In-graph counts (x ≥ 0 first, then x < 0 from the end) in `HistogramStatistics` order (bin j holds floor(x/w) = j − bins). */
function binOrder(counts: Int32Array): Int32Array {
  const bins = counts.length / 2;
  const ordered = new Int32Array(counts.length);
  ordered.set(counts.subarray(bins), 0);
  ordered.set(counts.subarray(0, bins), bins);
  return ordered;
}

/** An ORT session of `model` with statistics nodes for the given float32 activations. */
export class StatisticsGraph {
  private constructor(
    private readonly runner: OrtRunner,
    private readonly file: string,
    private readonly folder: string,
    private readonly outputs: ReadonlyMap<string, TensorOutputs>,
    private readonly bins: number | undefined,
  ) {}

  /** The tensors this graph summarizes. */
  get tensors(): readonly string[] {
    return [...this.outputs.keys()];
  }

  /**
   * Writes the calibration copy of `model` (the model itself is restored before this returns) and
   * opens a session. `bins`: histogram bins per sign, or undefined for min/max only.
   */
  static async open(model: Model, tensors: readonly Value[], bins: number | undefined): Promise<StatisticsGraph> {
    const graph = model.graph;
    const originalOutputs = [...graph.outputs];
    const originalInputs = new Set(graph.inputs);
    const originalConstants = new Set(graph.constants);
    const originalOpset = model.opset('onnx');
    const originalIrVersion = model.irVersion;
    const created: Node[] = [];
    const lifted = bins !== undefined ? histogramOpset(model) : undefined;
    const folder = claimTemporaryPath(join(tmpdir(), 'modelpass-calibration'));
    const file = join(folder, 'statistics.onnx');
    const outputs = new Map<string, TensorOutputs>();
    try {
      mkdirSync(folder);
      if (bins !== undefined && lifted === undefined) throw new Error('histogramOpset refused this model; check it before opening');
      if (lifted !== undefined && lifted !== originalOpset) {
        model.opsetImports.set('onnx', lifted);
        model.irVersion = Math.max(model.irVersion ?? 8, 8);
      }
      const b = Builder.atEnd(graph);
      const before = new Set(graph.nodeList());
      const extra: Value[] = [];
      for (const x of tensors) {
        const made = appendStatistics(b, x, bins);
        extra.push(made.summary, made.size, ...(made.counts ? [made.counts] : []));
        outputs.set(x.name, { summary: made.summary.name, size: made.size.name, counts: made.counts?.name, widthInput: made.widthInput?.name });
      }
      for (const node of graph.nodeList()) if (!before.has(node)) created.push(node);
      graph.setOutputs([...originalOutputs, ...extra]);
      writeOnnx(model, file);
    } catch (error) {
      rmSync(folder, { recursive: true, force: true });
      releaseTemporaryPath(folder);
      throw error;
    } finally {
      graph.setOutputs(originalOutputs);
      for (const node of created.reverse()) node.erase();
      for (const value of [...graph.constants]) if (!originalConstants.has(value)) graph.removeConstant(value);
      for (const value of [...graph.inputs]) if (!originalInputs.has(value)) graph.removeInput(value);
      if (originalOpset !== undefined) model.opsetImports.set('onnx', originalOpset);
      model.irVersion = originalIrVersion;
    }
    const runner = new OrtRunner({ maxSessions: 1 });
    const statistics = new StatisticsGraph(runner, file, folder, outputs, bins);
    try {
      await runner.describe(file);
    } catch (error) {
      await statistics.dispose();
      throw error;
    }
    return statistics;
  }

  /** One run: each tensor's summary. `widths`: each histogram tensor's current width (0 before any non-zero value). */
  async run(feeds: ReadonlyMap<string, Tensor>, widths: ReadonlyMap<string, number>): Promise<Map<string, TensorSummary>> {
    const allFeeds = new Map(feeds);
    const fetches: string[] = [];
    for (const [name, out] of this.outputs) {
      fetches.push(out.summary, out.size, ...(out.counts ? [out.counts] : []));
      if (out.widthInput) allFeeds.set(out.widthInput, Tensor.scalar('float32', widths.get(name) ?? 0));
    }
    const results = await this.runner.run(this.file, allFeeds, { outputs: fetches });
    const summaries = new Map<string, TensorSummary>();
    for (const [name, out] of this.outputs) {
      const summary = results.get(out.summary)!.data() as Float32Array;
      const size = Number((results.get(out.size)!.data() as BigInt64Array)[0]);
      const counts = out.counts ? binOrder(results.get(out.counts)!.data() as Int32Array) : undefined;
      summaries.set(name, { min: summary[0]!, max: summary[1]!, sum: summary[2]!, size, ...(counts ? { width: summary[3]!, counts } : {}) });
    }
    return summaries;
  }

  /** Histogram bins per sign this graph counts (undefined: min/max only). */
  get histogramBins(): number | undefined {
    return this.bins;
  }

  /** Releases the session and removes the temporary model. */
  async dispose(): Promise<void> {
    try {
      await this.runner.dispose();
    } finally {
      rmSync(this.folder, { recursive: true, force: true });
      releaseTemporaryPath(this.folder);
    }
  }
}
