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
 * on zero), at bin index floor(x · (1/w)), computed in float32: exact (1/w is a power of two) — the
 * same bins the JavaScript loop gives. Two ways to count them (`HistogramCounting`): `indices` (the
 * default where 2·bins is a power of two ≤ 65,536) returns each tensor's indices as int16 (one
 * output holding every tensor's, one after the other, unless some are sampled; freed as soon as it
 * is counted: `buffer-release.ts`) and counts them in
 * WebAssembly (`wasm-bin-counter.ts`, ~0.7 ns per index with the copy into its memory; where
 * WebAssembly SIMD is missing, the JavaScript loop of `bin-index-counts.ts`, 1.3–2.5 ns). In a
 * calibration (`runKeeping`) the counts stay in the counter across runs while a tensor's width stays,
 * and go to its `HistogramStatistics` only when the width grows and at the end; `scatter`
 * counts them inside ORT with `ScatterElements(reduction=add)`, which walks the values one by one on
 * one thread (~5 ns each here). Either way negative indices count from the
 * end, so the reader rotates the counts by `bins`.
 * The width is fed (the histogram's current width) and widened in the graph to the smallest power
 * of two holding this run's largest magnitude, so one run per part suffices; the JavaScript side
 * coarsens its counts to the returned width before adding (exact, see `HistogramStatistics`).
 * Sessions run without ORT's spin-waiting (`CALIBRATION_SESSION_OPTIONS`).
 *
 * `indices` counting uses no op past opset 9, so models of opset 9 and later keep their opset.
 * `ScatterElements` with a reduction needs ONNX opset 16: for `scatter`, a model of opset 13–15 is
 * written as opset 16 for calibration (the calibration copy only: no op's meaning changes between
 * them except RoiAlign's default `coordinate_transformation_mode`, so a model holding RoiAlign is not
 * lifted). Other models keep the histogram in JavaScript (`ActivationCollector`). Parts whose summaries show
 * NaN, ±Infinity (or a float32 sum overflow) or magnitudes too small for a float32 bin width are
 * collected again from the activation itself, so results stay exactly those of the JavaScript path.
 *
 * Sampled histograms (`histogram-sampling.ts`): a tensor with a stride p > 1 bins only a strided Slice
 * of its flattened values (Slice-10's `steps`: a strided copy, and p times fewer values through Mul,
 * Floor, Cast, the int16 output and the count). Each run is fed every such tensor's stride and the
 * index of its first counted value (where its numbering stands); the graph counts all values instead
 * where the run holds fewer than p × `HISTOGRAM_STRIDE_MIN_COUNTED` of them, as `HistogramStatistics`
 * does. Min, max, sum, size and the width stay over every value.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Builder, Tensor, claimTemporaryPath, releaseTemporaryPath, tensorType, type Model, type Node, type Value } from '@modelpass/ir';
import { writeOnnx } from '@modelpass/onnx';
import { viewElements } from '@modelpass/ops';
import { OrtRunner } from '@modelpass/runtime';
import { countBinIndices, countableByMask } from './bin-index-counts.js';
import { WasmBinCounter } from './wasm-bin-counter.js';
import { releaseArrayBuffer } from './buffer-release.js';
import { HISTOGRAM_STRIDE_MIN_COUNTED, SAMPLING_FROM_OPSET } from './histogram-sampling.js';
import { nonNegative } from './non-negative.js';
import { CALIBRATION_SESSION_OPTIONS } from './session-options.js';

type AttributeInits = Parameters<Builder['op1']>[2];

/** The first ONNX opset whose ScatterElements has `reduction`. */
const SCATTER_REDUCTION_OPSET = 16;
/** The lowest opset lifted to 16 for calibration (ReduceSum, Squeeze, Split and others take axes as inputs from 13 on, as in 16). */
const LIFTABLE_FROM_OPSET = 13;
/** The first ONNX opset with every op the `indices` histogram uses (Where arrived in 9). */
const INDICES_FROM_OPSET = 9;
/** Ops whose meaning differs between the lifted opsets and 16 (RoiAlign-16 changed a default). */
const NOT_LIFTABLE_OPS = new Set(['onnx.RoiAlign']);
/** Widths below this are not float32-exact as 1/w: such tensors are collected from their values. */
export const SMALLEST_GRAPH_WIDTH = 2 ** -100;

/** How the in-graph histogram is counted (see the module comment). */
export type HistogramCounting = 'indices' | 'scatter';

/** `indices` where int16 indices and a power-of-two mask can hold the `2·bins` bins, `scatter` otherwise. */
export function defaultHistogramCounting(bins: number): HistogramCounting {
  return countableByMask(2 * bins) ? 'indices' : 'scatter';
}

/** What one run says about one tensor. */
export interface TensorSummary {
  readonly min: number;
  readonly max: number;
  /** float32 sum of the values: finite exactly when every value is (unless the sum overflows). */
  readonly sum: number;
  readonly size: number;
  /**
   * Histogram tensors: the width the counts are at, and the `2·bins` counts in graph order, x ≥ 0
   * first: `counts[k]` is `HistogramStatistics` bin (k + firstBin) mod 2·bins (no reordered copy per
   * run). Valid until the graph's next run (`indices` counting reuses one buffer per tensor).
   */
  readonly width?: number;
  readonly counts?: Int32Array | Float64Array;
  readonly firstBin?: number;
}

/**
 * Whether the in-graph histogram counted by `counting` can be used for `model`, and the opset to
 * write it at: `indices` needs nothing past opset 9 (Where), so the model keeps its own; `scatter`
 * needs opset 16 (lifted from 13–15).
 */
export function histogramOpset(model: Model, counting: HistogramCounting = 'scatter'): number | undefined {
  const opset = model.opset('onnx') ?? model.opset('') ?? undefined;
  if (opset === undefined) return undefined;
  if (counting === 'indices') return opset >= INDICES_FROM_OPSET ? opset : undefined;
  if (opset >= SCATTER_REDUCTION_OPSET) return opset;
  if (opset < LIFTABLE_FROM_OPSET) return undefined;
  for (const node of model.graph.allNodes()) if (NOT_LIFTABLE_OPS.has(node.op)) return undefined;
  return SCATTER_REDUCTION_OPSET;
}

/** The graph parts made for all summarized tensors: one output of each kind, whatever their number. */
interface StatisticsOutputs {
  /** float32 [k·T]: T mins, then T maxes, T sums (and, for histograms, T widths). */
  readonly summary: string;
  /** int64 [T]: each tensor's element count. */
  readonly sizes: string;
  /** `scatter` counting: int32 [T·2·bins], each tensor's counts in graph order, one after the other. */
  readonly counts?: string;
  /**
   * `indices` counting: per tensor, int16 [size], each value's bin index floor(x/w); or, when
   * `indicesJoined`, one output of every tensor's indices one after the other (their lengths are `sizes`).
   */
  readonly indices?: readonly string[];
  readonly indicesJoined?: boolean;
  /** float32 [T] input: each tensor's current histogram width. */
  readonly widthInput?: string;
  /** Sampled histograms: int64 [T] inputs, each tensor's stride (1: every value) and first counted index. */
  readonly strideInput?: string;
  readonly startInput?: string;
}

/**
 * The all-ones updates for `value`'s histogram: one ConstantOfShape per static shape (tensors of one
 * shape, batch dimension included, share it), so the ones are written once per shape, not per tensor.
 * A shape not fully known gets its own.
 */
function onesFor(b: Builder, value: Value, shape: Value, cache: Map<string, Value>): Value {
  const dims = value.type.kind === 'tensor' ? value.type.shape : null;
  const known = dims !== null && dims.every((d) => typeof d === 'number' || (typeof d === 'string' && d.length > 0));
  const key = known ? JSON.stringify(dims) : undefined;
  const cached = key === undefined ? undefined : cache.get(key);
  if (cached) return cached;
  const ones = b.op1('onnx.ConstantOfShape', [shape], { value: Tensor.fromValues('int32', [1], [1]) }, { types: [tensorType('int32', [null])] });
  if (key !== undefined) cache.set(key, ones);
  return ones;
}

/**
 * Appends the summary (and histogram) nodes of `tensors` at the end of the graph. The per-tensor
 * scalars (min, max, sum, the width arithmetic) are gathered into vectors of all tensors, so the
 * width is computed once for all of them and the summaries are two outputs, not three per tensor
 * (plus, for histograms, each tensor's int16 indices, or with `scatter` one output of all counts).
 */
function appendStatistics(b: Builder, tensors: readonly Value[], bins: number | undefined, counting: HistogramCounting, strides: readonly number[]): { outputs: Value[]; names: StatisticsOutputs } {
  const count = tensors.length;
  const f32 = (v: number) => b.constant(Tensor.scalar('float32', v), 'calibration_const');
  const vectorOf = (dtype: 'float32' | 'int64' | 'bool') => tensorType(dtype, [count]);
  const flatShape = b.constant(Tensor.fromValues('int64', [1], [-1n]), 'calibration_flat');
  const flats = tensors.map((x) => b.op1('onnx.Reshape', [x, flatShape], {}, { types: [tensorType('float32', [null])] }));
  const gathered = (op: string) => {
    const parts = flats.map((flat) => b.op1(op, [flat], { keepdims: 1 }, { types: [tensorType('float32', [1])] }));
    return b.op1('onnx.Concat', parts, { axis: 0 }, { types: [vectorOf('float32')] });
  };
  const mins = gathered('onnx.ReduceMin');
  const maxes = gathered('onnx.ReduceMax');
  const sums = gathered('onnx.ReduceSum');
  const shapes = flats.map((flat) => b.op1('onnx.Shape', [flat], {}, { types: [tensorType('int64', [1])] }));
  const sizes = b.op1('onnx.Concat', shapes, { axis: 0 }, { types: [vectorOf('int64')] });
  if (bins === undefined) {
    const summary = b.op1('onnx.Concat', [mins, maxes, sums], { axis: 0 }, { types: [tensorType('float32', [3 * count])] });
    return { outputs: [summary, sizes], names: { summary: summary.name, sizes: sizes.name } };
  }
  const widthInput = b.graph.addInput(b.graph.uniqueName('calibration_widths'), vectorOf('float32'));
  const op = (name: string, inputs: Value[], attributes: AttributeInits = {}, type = vectorOf('float32')) => b.op1(name, inputs, attributes, { types: [type] });
  // Per tensor, elementwise over the vectors: m = max|x|; w0 = 2^floor(log2(m / bins)), then corrected
  // to the smallest power of two with m < bins·w (float32's log may be one off near a power of two;
  // bins·w is exact). m = 0 gives w = 0.
  const magnitude = op('onnx.Max', [op('onnx.Neg', [mins]), maxes]);
  const binsValue = f32(bins);
  const log2 = op('onnx.Div', [op('onnx.Log', [op('onnx.Div', [magnitude, binsValue])]), f32(Math.LN2)]);
  let width = op('onnx.Pow', [f32(2), op('onnx.Floor', [log2])]);
  const fits = (w: Value) => op('onnx.Less', [magnitude, op('onnx.Mul', [w, binsValue])], {}, vectorOf('bool'));
  for (let i = 0; i < 2; i++) {
    const doubled = op('onnx.Mul', [width, f32(2)]);
    width = op('onnx.Where', [fits(width), width, doubled]);
  }
  const halved = op('onnx.Mul', [width, f32(0.5)]);
  width = op('onnx.Where', [fits(halved), halved, width]);
  width = op('onnx.Max', [width, widthInput]);
  // 1/w stays finite (w = 0 only while every value is 0, and 0·(1/w) must be 0 then).
  const inverses = op('onnx.Reciprocal', [op('onnx.Max', [width, f32(SMALLEST_GRAPH_WIDTH)])]);
  const summary = b.op1('onnx.Concat', [mins, maxes, sums, width], { axis: 0 }, { types: [tensorType('float32', [4 * count])] });
  let names: StatisticsOutputs = { summary: summary.name, sizes: sizes.name, widthInput: widthInput.name };
  const binned = sampledValues(b, flats, sizes, strides);
  if (binned.strideInput) names = { ...names, strideInput: binned.strideInput, startInput: binned.startInput };
  const indexType = counting === 'indices' ? 'int16' : 'int32';
  const indices = binned.values.map((flat, i) => {
    const inverse = b.op1('onnx.Gather', [inverses, b.constant(Tensor.scalar('int64', BigInt(i)), 'calibration_index')], { axis: 0 }, { types: [tensorType('float32', [])] });
    const scaled = b.op1('onnx.Mul', [flat, inverse], {}, { types: [tensorType('float32', [null])] });
    // Cast truncates toward zero, which is floor for x ≥ 0: a Relu output (or a pooled, reshaped, … one) needs no Floor pass.
    const floors = nonNegative(tensors[i]!) ? scaled : b.op1('onnx.Floor', [scaled], {}, { types: [tensorType('float32', [null])] });
    // floor(x/w) is in [−bins, bins) for finite x. NaN and ±Infinity (·0) cast to some integer: with
    // `scatter`, x86's int32 −2^31 is an index ORT refuses (the run fails, and `BatchStatistics` redoes
    // the part from the values), a valid one lands in the tensor's own counts; with `indices` any int16
    // lands in some bin (`countBinIndices` masks it). Either way the part's non-finite sum has it
    // redone from the values. (A Clip into range here cost a pass over every element.)
    return b.op1('onnx.Cast', [floors], { to: indexType === 'int16' ? 5 : 6 }, { types: [tensorType(indexType, [null])] });
  });
  if (counting === 'indices') {
    // Unsampled, the indices of every tensor come back as one output (lengths: `sizes`): one buffer per run for
    // onnxruntime-node to allocate and copy out, freed as soon as it is counted (`buffer-release.ts`). s16 measured
    // one output per tensor again (nothing left for V8 to collect either way): the ORT run with its 21 outputs cost
    // 4.3–4.8 ms against 4.1–4.3 ms with the Concat, per run of 8 fashion-resnet samples (RESULTS-calibration-memory.md).
    // Sampled tensors' lengths depend on the run's stride and start, so they keep one output each.
    if (count > 1 && strides.every((stride) => stride === 1)) {
      const joined = b.op1('onnx.Concat', indices, { axis: 0 }, { types: [tensorType('int16', [null])] });
      return { outputs: [summary, sizes, joined], names: { ...names, indices: [joined.name], indicesJoined: true } };
    }
    return { outputs: [summary, sizes, ...indices], names: { ...names, indices: indices.map((v) => v.name) } };
  }
  // Negative indices count from the end: x ≥ 0 lands at floor(x/w), x < 0 at 2·bins + floor(x/w) (`TensorSummary.firstBin`).
  const zeros = b.constant(Tensor.fromValues('int32', [2 * bins], new Int32Array(2 * bins)), 'calibration_zeros');
  const onesOfShape = new Map<string, Value>();
  const counts = indices.map((index, i) => {
    const ones = strides[i]! > 1
      ? b.op1('onnx.ConstantOfShape', [b.op1('onnx.Shape', [index], {}, { types: [tensorType('int64', [1])] })], { value: Tensor.fromValues('int32', [1], [1]) }, { types: [tensorType('int32', [null])] })
      : onesFor(b, tensors[i]!, shapes[i]!, onesOfShape);
    return b.op1('onnx.ScatterElements', [zeros, index, ones], { axis: 0, reduction: 'add' }, { types: [tensorType('int32', [2 * bins])] });
  });
  const allCounts = b.op1('onnx.Concat', counts, { axis: 0 }, { types: [tensorType('int32', [2 * bins * count])] });
  return { outputs: [summary, sizes, allCounts], names: { ...names, counts: allCounts.name } };
}

/**
 * The values each tensor's histogram bins: the flattened tensor itself (stride 1), or a strided Slice
 * of it whose stride and start come from two fed int64 [T] vectors — reset to stride 1, start 0 where
 * the run's size is under stride × `HISTOGRAM_STRIDE_MIN_COUNTED` (one Less and two Wheres for all tensors).
 */
function sampledValues(b: Builder, flats: readonly Value[], sizes: Value, strides: readonly number[]): { values: Value[]; strideInput?: string; startInput?: string } {
  if (strides.every((stride) => stride === 1)) return { values: [...flats] };
  const count = flats.length;
  const int64Vector = tensorType('int64', [count]);
  const strideInput = b.graph.addInput(b.graph.uniqueName('calibration_strides'), int64Vector);
  const startInput = b.graph.addInput(b.graph.uniqueName('calibration_starts'), int64Vector);
  const i64 = (values: readonly bigint[]) => b.constant(Tensor.fromValues('int64', [values.length], BigInt64Array.from(values)), 'calibration_const');
  const small = b.op1('onnx.Less', [sizes, b.op1('onnx.Mul', [strideInput, i64([BigInt(HISTOGRAM_STRIDE_MIN_COUNTED)])], {}, { types: [int64Vector] })], {}, { types: [tensorType('bool', [count])] });
  const runStrides = b.op1('onnx.Where', [small, i64([1n]), strideInput], {}, { types: [int64Vector] });
  const runStarts = b.op1('onnx.Where', [small, i64([0n]), startInput], {}, { types: [int64Vector] });
  const ends = i64([2n ** 62n]);
  const axes = i64([0n]);
  const values = flats.map((flat, i) => {
    if (strides[i] === 1) return flat;
    const at = i64([BigInt(i)]);
    const step = b.op1('onnx.Gather', [runStrides, at], { axis: 0 }, { types: [tensorType('int64', [1])] });
    const start = b.op1('onnx.Gather', [runStarts, at], { axis: 0 }, { types: [tensorType('int64', [1])] });
    return b.op1('onnx.Slice', [flat, start, ends, axes, step], {}, { types: [tensorType('float32', [null])] });
  });
  return { values, strideInput: strideInput.name, startInput: startInput.name };
}

/** Where counts kept across runs go (`HistogramStatistics.addCounts`): `2·bins` counts at `width`, `counts[k]` being bin (k + firstBin) mod 2·bins. */
export interface BinCountSink {
  addCounts(width: number, counts: ArrayLike<number>, firstBin: number): unknown;
}

/** One run of `StatisticsGraph.runKeeping`. */
export interface KeepingRun {
  /** Each tensor's summary (histogram tensors: with the run's width, no counts). */
  readonly summaries: ReadonlyMap<string, TensorSummary>;
  /** Counts the tensor's part of this run for `sink` (nothing for a part of no values). */
  keep(name: string, sink: BinCountSink): void;
  /** Ends the run: its index buffers are freed. */
  release(): void;
}

/** A tensor's counts kept across runs: at `width`, `values` indices so far, where they are counted, and their sink. */
interface KeptCounts {
  width: number;
  values: number;
  inCounter: boolean;
  inScratch: boolean;
  sink?: BinCountSink;
}

/** Indices kept per tensor before its counts are handed on: no int32 count can pass 2^31 − 1. */
const MAX_KEPT_INDICES = 2 ** 31 - 1;

/** An ORT session of `model` with statistics nodes for the given float32 activations. */
export class StatisticsGraph {
  /** `indices` counting in JavaScript (no WebAssembly SIMD, or a run its memory cannot hold): one `2·bins` counts buffer per tensor, refilled by each run. */
  private scratch: Float64Array[] = [];
  /** `indices` counting: the WebAssembly counter (`wasm-bin-counter.ts`), undefined where it cannot run. */
  private readonly counter: WasmBinCounter | undefined;
  /** `runKeeping`: per tensor, the counts kept across runs (in the counter's tables or in `keptScratch`) and where they go. */
  private kept: KeptCounts[];
  /** `runKeeping` counted in JavaScript (no WebAssembly SIMD, or a run its memory cannot hold): one `2·bins` counts buffer per tensor. */
  private readonly keptScratch: (Float64Array | undefined)[] = [];
  /** Each tensor's position in `names`. */
  private readonly index: ReadonlyMap<string, number>;
  /**
   * Bytes of the buffers the last run returned and left to V8 to collect (see young-garbage.ts): the
   * bin indices are freed once counted (`buffer-release.ts`), so where that works they are not in it.
   */
  lastRunBytes = 0;

  private constructor(
    private readonly runner: OrtRunner,
    private readonly file: string,
    private readonly folder: string,
    private readonly names: readonly string[],
    private readonly outputs: StatisticsOutputs,
    private readonly bins: number | undefined,
    /** How histograms are counted (undefined: min/max only). */
    readonly counting: HistogramCounting | undefined,
    /** Each tensor's histogram stride (1: every value counted). */
    readonly strides: readonly number[],
  ) {
    this.counter = outputs.indices ? WasmBinCounter.create(names.length, 2 * bins!) : undefined;
    this.kept = names.map(() => ({ width: 0, values: 0, inCounter: false, inScratch: false }));
    this.index = new Map(names.map((name, i) => [name, i]));
  }

  /** The tensors this graph summarizes. */
  get tensors(): readonly string[] {
    return this.names;
  }

  /**
   * Writes the calibration copy of `model` (the model itself is restored before this returns) and
   * opens a session. `bins`: histogram bins per sign, or undefined for min/max only; `counting`:
   * how the histogram is counted (`defaultHistogramCounting(bins)` unless given); `strides`: each
   * tensor's histogram stride (`histogram-sampling.ts`; all 1 unless given, and needs opset ≥ 10).
   */
  static async open(model: Model, tensors: readonly Value[], bins: number | undefined, counting?: HistogramCounting, strides?: readonly number[]): Promise<StatisticsGraph> {
    const countedBy = bins === undefined ? undefined : (counting ?? defaultHistogramCounting(bins));
    if (countedBy === 'indices' && !countableByMask(2 * bins!)) {
      throw new Error(`'indices' histogram counting needs 2·bins to be a power of two up to 65536; got bins = ${bins}`);
    }
    const tensorStrides = bins === undefined ? tensors.map(() => 1) : (strides ?? tensors.map(() => 1));
    if (tensorStrides.length !== tensors.length || tensorStrides.some((s) => !Number.isInteger(s) || s < 1)) {
      throw new Error(`histogram strides must be one integer ≥ 1 per tensor; got [${tensorStrides.join(', ')}] for ${tensors.length} tensors`);
    }
    if (tensorStrides.some((s) => s > 1) && (model.opset('onnx') ?? model.opset('') ?? 0) < SAMPLING_FROM_OPSET) {
      throw new Error(`sampled histograms need ONNX opset ≥ ${SAMPLING_FROM_OPSET} (Slice with steps)`);
    }
    const graph = model.graph;
    const originalOutputs = [...graph.outputs];
    const originalInputs = new Set(graph.inputs);
    const originalConstants = new Set(graph.constants);
    const originalOpset = model.opset('onnx');
    const originalIrVersion = model.irVersion;
    const created: Node[] = [];
    const lifted = countedBy !== undefined ? histogramOpset(model, countedBy) : undefined;
    const folder = claimTemporaryPath(join(tmpdir(), 'modelpass-calibration'));
    const file = join(folder, 'statistics.onnx');
    let outputs: StatisticsOutputs | undefined;
    try {
      mkdirSync(folder);
      if (bins !== undefined && lifted === undefined) throw new Error('histogramOpset refused this model; check it before opening');
      if (lifted !== undefined && lifted !== originalOpset) {
        model.opsetImports.set('onnx', lifted);
        model.irVersion = Math.max(model.irVersion ?? 8, 8);
      }
      const b = Builder.atEnd(graph);
      const before = new Set(graph.nodeList());
      const made = appendStatistics(b, tensors, bins, countedBy ?? 'scatter', tensorStrides);
      outputs = made.names;
      const extra = made.outputs;
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
    const runner = new OrtRunner({ maxSessions: 1, sessionOptions: CALIBRATION_SESSION_OPTIONS });
    const statistics = new StatisticsGraph(runner, file, folder, tensors.map((x) => x.name), outputs!, bins, countedBy, tensorStrides);
    try {
      await runner.describe(file);
    } catch (error) {
      await statistics.dispose();
      throw error;
    }
    return statistics;
  }

  /**
   * One run: each tensor's summary, histogram tensors with this run's counts. `widths`: each histogram
   * tensor's current width (0 before any non-zero value). `starts`: each sampled tensor's first counted
   * index, were the run large enough (`HistogramStatistics.sampling`; 0 where not given).
   */
  async run(feeds: ReadonlyMap<string, Tensor>, widths: ReadonlyMap<string, number>, starts?: ReadonlyMap<string, number>): Promise<Map<string, TensorSummary>> {
    // The counter's tables are cleared per tensor below: counts `runKeeping` kept there go to their sinks first.
    this.flush();
    const { summaries, indices, scattered } = await this.runGraph(feeds, widths, starts);
    const length = 2 * (this.bins ?? 0);
    const counted = indices ? this.countInWasm(indices) : undefined;
    const result = new Map<string, TensorSummary>();
    summaries.forEach((summary, i) => {
      if (this.bins === undefined) {
        result.set(this.names[i]!, summary);
        return;
      }
      let counts: Int32Array | Float64Array;
      if (scattered) {
        counts = scattered.subarray(i * length, (i + 1) * length);
      } else if (counted) {
        counts = counted[i]!;
      } else {
        if (this.scratch.length === 0) this.scratch = this.names.map(() => new Float64Array(length));
        counts = this.scratch[i]!.fill(0);
        countBinIndices(indices![i]!, counts);
      }
      result.set(this.names[i]!, { ...summary, counts, firstBin: length / 2 });
    });
    // The counter (or the scratch) kept no index: the run's index buffers are freed now (`buffer-release.ts`).
    if (indices) this.releaseIndices(indices);
    return result;
  }

  /**
   * One run whose histogram counts stay in the graph, added to what each tensor counted in earlier runs
   * at the same width (`indices` counting: the WebAssembly counter's tables, or the JavaScript loop's):
   * per run no tables are cleared, folded nor read back. The returned run holds each tensor's summary
   * (no counts); `keep(name, sink)` counts that tensor's part of this run for `sink`, which receives
   * the counts (`HistogramStatistics.addCounts`) when the width changes, before 2^31 − 1 indices, and on
   * `flush` — call `flush(name)` before the tensor's statistics change otherwise, and `flush()` at the
   * end. A tensor not kept has this run's counts dropped. `release()` ends the run (frees its index
   * buffers). Throws, before any count is kept, where ORT refuses the run.
   */
  async runKeeping(feeds: ReadonlyMap<string, Tensor>, widths: ReadonlyMap<string, number>, starts?: ReadonlyMap<string, number>): Promise<KeepingRun> {
    const { summaries, indices, scattered } = await this.runGraph(feeds, widths, starts);
    const length = 2 * (this.bins ?? 0);
    const byName = new Map(summaries.map((summary, i) => [this.names[i]!, summary]));
    let released = false;
    return {
      summaries: byName,
      keep: (name: string, sink: BinCountSink) => {
        if (released) throw new Error('StatisticsGraph: keep() after release()');
        const i = this.index.get(name);
        const summary = byName.get(name);
        if (i === undefined || summary?.width === undefined || summary.size === 0) return;
        if (scattered) {
          this.flushTensor(i);
          sink.addCounts(summary.width, scattered.subarray(i * length, (i + 1) * length), length / 2);
        } else {
          this.keepCounts(i, summary.width, indices![i]!, sink);
        }
      },
      release: () => {
        if (released) return;
        released = true;
        if (indices) this.releaseIndices(indices);
      },
    };
  }

  /** Hands the counts kept for `name` (every tensor without a name) to their sinks. */
  flush(name?: string): void {
    if (name === undefined) {
      for (let i = 0; i < this.kept.length; i++) this.flushTensor(i);
      return;
    }
    const i = this.index.get(name);
    if (i !== undefined) this.flushTensor(i);
  }

  /** The width of the counts kept for `name` (0 where none are kept): a run's width is at least this. */
  keptWidth(name: string): number {
    const i = this.index.get(name);
    const kept = i === undefined ? undefined : this.kept[i];
    return kept && kept.values > 0 ? kept.width : 0;
  }

  /** Adds one run's indices of tensor i to its kept counts, first flushing those of another width or sink, or too many to add to. */
  private keepCounts(i: number, width: number, part: Int16Array, sink: BinCountSink): void {
    let kept = this.kept[i]!;
    if (kept.values > 0 && (kept.width !== width || kept.sink !== sink || kept.values + part.length > MAX_KEPT_INDICES)) {
      this.flushTensor(i);
      kept = this.kept[i]!;
    }
    kept.width = width;
    kept.sink = sink;
    kept.values += part.length;
    if (this.counter && !kept.inScratch) {
      try {
        this.counter.add(i, part);
        kept.inCounter = true;
        return;
      } catch (error) {
        // A run the module's memory cannot grow to: this tensor counts in JavaScript until its next flush.
        if (!(error instanceof RangeError)) throw error;
      }
    }
    const length = 2 * this.bins!;
    const scratch = (this.keptScratch[i] ??= new Float64Array(length));
    countBinIndices(part, scratch);
    kept.inScratch = true;
  }

  /** Hands tensor i's kept counts to its sink and clears them. */
  private flushTensor(i: number): void {
    const kept = this.kept[i]!;
    if (kept.values === 0 || !kept.sink) return;
    const { sink, width } = kept;
    const firstBin = this.bins!;
    this.kept[i] = { width: 0, values: 0, inCounter: false, inScratch: false };
    if (kept.inCounter) this.counter!.take(i, (counts) => sink.addCounts(width, counts, firstBin));
    if (kept.inScratch) {
      const scratch = this.keptScratch[i]!;
      sink.addCounts(width, scratch, firstBin);
      scratch.fill(0);
    }
  }

  /** The ORT run: each tensor's summary (no counts), and the bin indices or ScatterElements counts of histogram graphs. */
  private async runGraph(feeds: ReadonlyMap<string, Tensor>, widths: ReadonlyMap<string, number>, starts?: ReadonlyMap<string, number>): Promise<{ summaries: TensorSummary[]; indices?: Int16Array[]; scattered?: Int32Array }> {
    const { names, outputs } = this;
    const count = names.length;
    const allFeeds = new Map(feeds);
    if (outputs.widthInput) allFeeds.set(outputs.widthInput, Tensor.fromValues('float32', [count], Float32Array.from(names, (name) => widths.get(name) ?? 0)));
    if (outputs.strideInput && outputs.startInput) {
      allFeeds.set(outputs.strideInput, Tensor.fromValues('int64', [count], BigInt64Array.from(this.strides, (stride) => BigInt(stride))));
      allFeeds.set(outputs.startInput, Tensor.fromValues('int64', [count], BigInt64Array.from(names, (name) => BigInt(starts?.get(name) ?? 0))));
    }
    const fetches = [outputs.summary, outputs.sizes, ...(outputs.counts ? [outputs.counts] : []), ...(outputs.indices ?? [])];
    this.lastRunBytes = 0;
    const results = await this.runner.run(this.file, allFeeds, { outputs: fetches });
    for (const tensor of results.values()) this.lastRunBytes += tensor.byteLength;
    // Views of the run's own buffers: `Tensor.data()` copies, which doubled the ArrayBuffer garbage per run (see young-garbage.ts).
    const summary = viewElements(results.get(outputs.summary)!) as Float32Array;
    const sizes = viewElements(results.get(outputs.sizes)!) as BigInt64Array;
    const scattered = outputs.counts ? (viewElements(results.get(outputs.counts)!) as Int32Array) : undefined;
    const indices = outputs.indices ? this.indexParts(results, sizes) : undefined;
    const summaries: TensorSummary[] = [];
    for (let i = 0; i < count; i++) {
      const size = Number(sizes[i]!);
      const base = { min: summary[i]!, max: summary[count + i]!, sum: summary[2 * count + i]!, size };
      summaries.push(this.bins === undefined ? base : { ...base, width: summary[3 * count + i]! });
    }
    return { summaries, ...(indices ? { indices } : {}), ...(scattered ? { scattered } : {}) };
  }

  /** Frees the run's index buffers (counted, nothing keeps them); what was freed is no longer garbage in `lastRunBytes`. */
  private releaseIndices(indices: readonly Int16Array[]): void {
    for (const buffer of new Set(indices.map((part) => part.buffer))) {
      const bytes = buffer.byteLength;
      if (releaseArrayBuffer(buffer)) this.lastRunBytes -= bytes;
    }
  }

  /** Each tensor's int16 indices of the run: views of its own output, or of its stretch of the joined one. */
  private indexParts(results: ReadonlyMap<string, Tensor>, sizes: BigInt64Array): Int16Array[] {
    const outputs = this.outputs.indices!;
    if (!this.outputs.indicesJoined) return outputs.map((name) => viewElements(results.get(name)!) as Int16Array);
    const joined = viewElements(results.get(outputs[0]!)!) as Int16Array;
    const parts: Int16Array[] = [];
    let start = 0;
    for (let i = 0; i < this.names.length; i++) {
      const end = start + Number(sizes[i]!);
      parts.push(joined.subarray(start, end));
      start = end;
    }
    if (start !== joined.length) throw new Error(`the joined bin indices hold ${joined.length} values, the tensors' sizes ${start}`);
    return parts;
  }

  /**
   * Each tensor's counts from the WebAssembly counter, or undefined where there is none or its memory
   * cannot grow to this run's largest index output (a RangeError past what the engine gives one module):
   * the run is then counted by the JavaScript loop, to the same counts.
   */
  private countInWasm(indices: Int16Array[]): Int32Array[] | undefined {
    if (!this.counter) return undefined;
    try {
      return this.counter.countAll(indices);
    } catch (error) {
      if (error instanceof RangeError) return undefined;
      throw error;
    }
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
