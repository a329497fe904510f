/**
 * Folds one calibration run's values into the statistics of every requested tensor: float32
 * activations and graph inputs through the in-graph summaries of `StatisticsGraph` (only a few
 * numbers per tensor leave ORT), the rest — initializers, other float dtypes, histograms of models
 * the in-graph histogram cannot be written for (`histogramOpset`) — through `ActivationCollector`, whose values are
 * read in JavaScript. A part whose in-graph summary cannot be trusted exactly (non-finite values, a
 * float32 sum overflow, magnitudes below a float32 bin width) is collected again from its values,
 * so the statistics are exactly those of reading every value in JavaScript.
 */
import { ModelpassError, type Model, type Tensor, type Value } from '@modelpass/ir';
import { encodeOnnx } from '@modelpass/onnx';
import { OrtRunner } from '@modelpass/runtime';
import { calibrationError } from './options.js';
import { ActivationCollector, resolveTensors } from './activation-collector.js';
import { HistogramStatistics } from './histogram-statistics.js';
import { MinMaxStatistics } from './minmax-statistics.js';
import { SMALLEST_GRAPH_WIDTH, StatisticsGraph, defaultHistogramCounting, histogramOpset, type KeepingRun, type TensorSummary } from './statistics-graph.js';
import { SAMPLING_FROM_OPSET } from './histogram-sampling.js';
import { YoungGarbage } from './young-garbage.js';

type Statistics = MinMaxStatistics | HistogramStatistics;

/** A tensor's elements as numbers: a view of its bytes for float32 (no copy per batch), decoded otherwise. */
function floatValues(tensor: Tensor): ArrayLike<number> {
  if (tensor.dtype === 'float32') {
    const bytes = tensor.bytes();
    if (bytes.byteOffset % 4 === 0) return new Float32Array(bytes.buffer, bytes.byteOffset, tensor.size);
  }
  return tensor.data() as ArrayLike<number>;
}

/** Whether `value` can be summarized in the graph for statistics of this kind (`bins`: histogram bins per sign, undefined for min/max). */
function summarizable(model: Model, value: Value | undefined, bins: number | undefined, stride: number): value is Value {
  // Intermediate values of an imported model often carry no type (no value_info): those are tried
  // in the graph too, and a session ORT refuses (not float32 after all) falls back to the values.
  if (!value || value.constant || (value.type.kind === 'tensor' && value.type.dtype !== 'float32')) return false;
  // A strided histogram needs Slice's steps (opset 10); `histogramStrides` gives older models stride 1.
  if (stride > 1 && (model.opset('onnx') ?? model.opset('') ?? 0) < SAMPLING_FROM_OPSET) return false;
  return bins === undefined || histogramOpset(model, defaultHistogramCounting(bins)) !== undefined;
}

/** A tensor's histogram stride (1 for min/max statistics). */
function strideOf(statistics: Statistics | undefined): number {
  return statistics instanceof HistogramStatistics ? statistics.stride : 1;
}

/** Whether the part's summary of a tensor stands for its values exactly (see the module comment). */
function trustworthy(summary: TensorSummary, statistics: Statistics): boolean {
  if (!Number.isFinite(summary.sum)) return false;
  if (!(statistics instanceof HistogramStatistics)) return true;
  const magnitude = Math.max(-summary.min, summary.max);
  return !(magnitude > 0 && summary.width! < SMALLEST_GRAPH_WIDTH);
}

export class BatchStatistics {
  /** Collector of the in-graph tensors' values, opened on the first part that needs one. */
  private fallback: ActivationCollector | undefined;
  /** Parts collected from their values although their tensor is summarized in the graph. */
  recollected = 0;
  /** The runs' feed copies and outputs, dropped after each part (see `YoungGarbage`). */
  private readonly garbage = new YoungGarbage();

  private constructor(
    private readonly model: Model,
    private readonly statistics: ReadonlyMap<string, Statistics>,
    private readonly graph: StatisticsGraph | undefined,
    private readonly values: ActivationCollector | undefined,
    private readonly valueNames: ReadonlySet<string>,
  ) {}

  /** Opens the sessions for `statistics`' tensors (one per kind of collection needed). */
  static async open(model: Model, statistics: ReadonlyMap<string, Statistics>, bins: number | undefined): Promise<BatchStatistics> {
    const inGraph: Value[] = [];
    const fromValues: string[] = [];
    for (const name of statistics.keys()) {
      const value = model.graph.getValue(name);
      if (summarizable(model, value, bins, strideOf(statistics.get(name)))) inGraph.push(value);
      else fromValues.push(name);
    }
    // Unknown or non-float names are refused here, by the collector, before the graph is written.
    resolveTensors(model, [...statistics.keys()]);
    let graph: StatisticsGraph | undefined;
    if (inGraph.length > 0) {
      try {
        graph = await StatisticsGraph.open(model, inGraph, bins, undefined, inGraph.map((value) => strideOf(statistics.get(value.name))));
      } catch (error) {
        await refuseIfOrtRejectsModel(model);
        // An untyped tensor that is not float32 makes ORT refuse the statistics nodes: read every value instead.
        if (inGraph.every((value) => value.type.kind === 'tensor')) throw error;
        fromValues.push(...inGraph.map((value) => value.name));
      }
    }
    const values = fromValues.length > 0 ? await ActivationCollector.open(model, fromValues) : undefined;
    return new BatchStatistics(model, statistics, graph, values, new Set(fromValues));
  }

  /** Tensors summarized in the graph and tensors read as values. */
  get layout(): { inGraph: readonly string[]; fromValues: readonly string[] } {
    return { inGraph: this.graph?.tensors ?? [], fromValues: [...this.valueNames] };
  }

  /** Runs one part and folds it in; returns the bytes its requested activations take (for the part-size budget). */
  async add(feeds: ReadonlyMap<string, Tensor>): Promise<number> {
    let bytes = 0;
    let dropped = 0;
    let feedBytes = 0;
    for (const tensor of feeds.values()) feedBytes += tensor.byteLength;
    const redo = new Set<string>();
    let refused = false;
    if (this.graph) {
      dropped += feedBytes;
      const widths = new Map<string, number>();
      const starts = new Map<string, number>();
      const graph = this.graph;
      for (const name of graph.tensors) {
        const statistics = this.statistics.get(name)!;
        if (statistics instanceof HistogramStatistics) {
          // The graph keeps counts across runs (`StatisticsGraph.runKeeping`): the tensor's width is the wider of theirs and its statistics'.
          const width = Math.max(statistics.width, graph.keptWidth(name));
          // A width not exact in float32 stays with the values (the graph is fed 0 and its counts are ignored).
          if (width !== 0 && width < SMALLEST_GRAPH_WIDTH) redo.add(name);
          widths.set(name, redo.has(name) ? 0 : width);
          starts.set(name, statistics.nextStart);
        }
      }
      const run = await this.graphRun(feeds, widths, starts);
      if (!run) {
        refused = true;
        for (const name of graph.tensors) redo.add(name);
      }
      try {
        for (const [name, summary] of run?.summaries ?? []) {
          bytes += 4 * summary.size;
          const statistics = this.statistics.get(name)!;
          if (redo.has(name) || !trustworthy(summary, statistics)) {
            redo.add(name);
          } else if (summary.size === 0) {
            continue;
          } else if (statistics instanceof HistogramStatistics) {
            statistics.addExtremes(summary.min, summary.max, summary.size);
            run!.keep(name, statistics);
          } else {
            statistics.addBatchSummary(summary.min, summary.max, summary.size, 0);
          }
        }
      } finally {
        run?.release();
      }
      // The run's outputs left to V8: summaries (and ScatterElements counts); the bin indices are freed once counted where the engine allows it.
      if (run) dropped += graph.lastRunBytes;
    }
    if (this.values) {
      dropped += feedBytes;
      for (const [name, tensor] of await this.values.run(feeds)) {
        this.statistics.get(name)!.add(floatValues(tensor));
        bytes += tensor.byteLength;
        dropped += tensor.byteLength;
      }
    }
    if (redo.size > 0) {
      this.recollected += redo.size;
      this.fallback ??= await ActivationCollector.open(this.model, this.graph!.tensors);
      dropped += feedBytes;
      for (const [name, tensor] of await this.fallback.run(feeds, redo)) {
        // Counts the graph kept go in first, at their width, before the values can widen the histogram.
        this.graph!.flush(name);
        this.statistics.get(name)!.add(floatValues(tensor));
        dropped += tensor.byteLength;
        if (refused) bytes += tensor.byteLength;
      }
    }
    this.garbage.dropped(dropped);
    return bytes;
  }

  /** Hands the counts the graph kept across runs to the statistics: call it once every part is added, before the statistics are read. */
  finish(): void {
    this.graph?.flush();
  }

  /**
   * The graph's summaries of one part, or undefined where ORT refused the run — a NaN or ±Infinity
   * cast to an index outside the counts (see `StatisticsGraph`) — so that every tensor of the part is
   * collected from its values instead (a model that cannot run at all fails there, with its own error).
   */
  private async graphRun(feeds: ReadonlyMap<string, Tensor>, widths: ReadonlyMap<string, number>, starts: ReadonlyMap<string, number>): Promise<KeepingRun | undefined> {
    try {
      return await this.graph!.runKeeping(feeds, widths, starts);
    } catch {
      return undefined;
    }
  }

  /**
   * Between batches: notes the finished batch's buffers (`batchBytes`) and collects the young
   * generation if enough has piled up (see `YoungGarbage`; call it once the batch is unreferenced).
   */
  betweenBatches(batchBytes: number): void {
    this.garbage.dropped(batchBytes);
    this.garbage.settle();
  }

  async dispose(): Promise<void> {
    const sessions = [this.graph, this.values, this.fallback];
    const results = await Promise.allSettled(sessions.map((session) => session?.dispose()));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }
}

/**
 * When ORT refuses the calibration copy, whether it refuses the model itself: then that is the error, not one
 * about a temporary statistics.onnx (QA s12: a ReduceMean with an `axes` attribute in an opset-21 model was
 * reported as "/tmp/.modelpass-calibration…/statistics.onnx: ONNX Runtime rejected the model").
 */
async function refuseIfOrtRejectsModel(model: Model): Promise<void> {
  const runner = new OrtRunner({ maxSessions: 1 });
  let reason: string | undefined;
  try {
    await runner.describe(encodeOnnx(model));
  } catch (error) {
    reason = ModelpassError.is(error) ? error.reason : error instanceof Error ? error.message : String(error);
  } finally {
    await runner.dispose();
  }
  if (reason !== undefined) {
    throw calibrationError({
      reason: `ONNX Runtime cannot load the model to calibrate it (before calibration adds anything): ${reason}`,
      hint: 'the model (as the passes before calibration left it) is invalid for ONNX Runtime: check the input with modelpass compare or ONNX\'s checker',
    });
  }
}
