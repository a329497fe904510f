/**
 * The one report every modelpass command writes with `--report out.json` (version 1).
 *
 * The JSON Schema `schema/report.v1.json` describes the same shape and is what `validateReport`
 * checks against; this file is its TypeScript spelling. Every field is documented in the package
 * README. Rules that hold throughout:
 * - numbers are plain JSON numbers; an error that is infinite (a shape mismatch, NaN against a
 *   number) is written as the string `"Infinity"` (JSON has no infinity), see `ReportNumber`;
 * - byte counts are of tensor data (constants), file sizes are separate (`fileBytes`);
 * - optional sections are absent, never `null`, when a command did not measure them.
 */

export const REPORT_SCHEMA_VERSION = 1 as const;

/** A finite number, or `"Infinity"`/`"-Infinity"`/`"NaN"` where a metric is not finite. */
export type ReportNumber = number | 'Infinity' | '-Infinity' | 'NaN';

export type ReportCommand = 'convert' | 'compare' | 'eval' | 'diff' | 'inspect';

export interface Report {
  readonly schemaVersion: typeof REPORT_SCHEMA_VERSION;
  readonly tool: { readonly name: string; readonly version: string };
  readonly command: ReportCommand;
  /** The command line after the program name, as given. */
  readonly argv?: readonly string[];
  /** ISO 8601 time the report was written. */
  readonly createdAt: string;
  /** Files and data the command read. */
  readonly inputs: readonly ReportInput[];
  /** Canonical pipeline text, every option spelled out (convert only). */
  readonly pipeline?: string;
  /** Pass executions in order (convert only; empty otherwise). */
  readonly passes: readonly PassRecord[];
  /** The model before the command's changes and after them (compare/diff: the two models given). */
  readonly models?: { readonly before: ModelSummary; readonly after?: ModelSummary };
  readonly accuracy?: { readonly before?: AccuracyFigure; readonly after?: AccuracyFigure };
  readonly latency?: { readonly before?: LatencyFigure; readonly after?: LatencyFigure };
  /** Per-layer table of the weighted nodes (Conv, ConvTranspose, Gemm, MatMul, …) after the command. */
  readonly layers: readonly LayerRecord[];
  /** Output comparison of two models on the same inputs (compare). */
  readonly comparison?: OutputsCheck;
  readonly diff?: ModelDiff;
  readonly check?: CheckReport;
  /** Warnings and notes the command printed. */
  readonly diagnostics?: readonly ReportDiagnostic[];
}

export interface ReportInput {
  /** What the file is to the command: `model`, `reference`, `candidate`, `inputs`, `dataset`, `plugin`. */
  readonly role: string;
  /** The path or dataset spec as given on the command line. */
  readonly path: string;
  /** `onnx`, `mpir`, `tflite`, `npy`, `idx`, … when known. */
  readonly format?: string;
  readonly bytes?: number;
}

export interface PassRecord {
  /** 1-based execution number in the pipeline run (the `NNN` of IR dump files). */
  readonly index: number;
  readonly name: string;
  /** Enclosing anchors and their iteration, outermost first (`fixed-point#2`). */
  readonly nesting?: readonly string[];
  /** Resolved options, camelCase keys, defaults filled in. */
  readonly options: Readonly<Record<string, unknown>>;
  /** Wall time of the pass's run alone, in milliseconds. */
  readonly timeMs: number;
  /** False when the pass reported that it changed nothing. */
  readonly changed: boolean;
  /** Statistic name → count, every statistic the pass declares. */
  readonly statistics: Readonly<Record<string, number>>;
  /** The numeric check after this pass (`--check`). */
  readonly check?: OutputsCheck;
}

export interface ModelSummary {
  readonly path?: string;
  /** Size of the serialized model file(s), when it came from or went to a file. */
  readonly fileBytes?: number;
  /** Bytes of constant tensor data (initializers, Constant nodes' values, subgraph constants). */
  readonly bytes: number;
  readonly bytesByDtype: Readonly<Record<string, number>>;
  /** Constant bytes attributed to the op type of the first node reading them (`unused` when none). */
  readonly bytesByOp: Readonly<Record<string, number>>;
  /** Elements of all constant tensors. */
  readonly parameters: number;
  /** Nodes in the main graph and every subgraph. */
  readonly nodes: number;
  /** Op type (dialect prefix kept for non-ONNX ops) → node count. */
  readonly nodesByOp: Readonly<Record<string, number>>;
  /** FLOPs estimate (see README: 2 per MAC, 1 per bias/elementwise output element, …). */
  readonly flops: number;
  readonly macs: number;
  readonly flopsByOp: Readonly<Record<string, number>>;
  /** Nodes without a FLOPs figure (no cost rule, or shapes not static). */
  readonly flopsUncounted: number;
  /** Dims fixed to count FLOPs (`input 'x' dim 0 'N' = 1`). */
  readonly flopsAssumptions: readonly string[];
  readonly graphInputs: readonly ValueSignature[];
  readonly graphOutputs: readonly ValueSignature[];
  readonly opsets: Readonly<Record<string, number>>;
}

export interface ValueSignature {
  readonly name: string;
  /** `float32[1,3,N,?]`, the IR's short type form. */
  readonly type: string;
}

export interface AccuracyFigure {
  /** Fraction of samples whose argmax equals the label, 0..1. */
  readonly top1: number;
  readonly samples: number;
  /** Dataset spec. */
  readonly dataset: string;
}

export interface LatencyFigure {
  /** Median wall time of one run, milliseconds. */
  readonly medianMs: number;
  readonly meanMs?: number;
  readonly p90Ms?: number;
  readonly runs: number;
  readonly batch?: number;
  /** `onnxruntime`, `reference`, … */
  readonly engine: string;
}

export interface LayerRecord {
  readonly node: string;
  readonly op: string;
  /** Name of the weight input (input 1 of Conv/Gemm/MatMul) when it is constant. */
  readonly weight?: string;
  readonly weightShape?: readonly number[];
  readonly parameters?: number;
  readonly flops?: number;
  /** Fraction of weight elements that are exactly zero, 0..1. */
  readonly sparsity?: number;
  /** Output channels of the weight before and after (pruning). */
  readonly channels?: { readonly before: number; readonly after: number };
  readonly quantization?: LayerQuantization;
}

export interface LayerQuantization {
  /** Storage dtype of the weight (`int8`, `uint8`, `int4`, …). */
  readonly dtype: string;
  readonly bits: number;
  /** Axis of per-channel parameters; absent when per-tensor. */
  readonly axis?: number;
  /** Scales (one, or one per channel; at most 64 kept, see `scaleCount`). */
  readonly scale: readonly number[];
  readonly zeroPoint: readonly number[];
  readonly scaleCount: number;
  /** Signal-to-quantization-noise ratio of the dequantized weight against the float weight before, in dB. */
  readonly sqnrDb?: ReportNumber;
  /** Cosine similarity of the dequantized weight and the float weight before. */
  readonly cosine?: number;
}

/** Error metrics of one output of two runs on the same inputs (reference first). */
export interface OutputMetrics {
  readonly name: string;
  readonly maxAbsError: ReportNumber;
  readonly maxRelError: ReportNumber;
  readonly cosine: number | null;
  /** Fraction of rows with the same argmax, for [batch, classes] outputs; otherwise null. */
  readonly top1Agreement: number | null;
  readonly elementCount: number;
  readonly mismatchedElements: number;
  readonly withinTolerance: boolean;
  /** Present when the output changed shape: not compared element by element (the errors then read "Infinity"). */
  readonly shapeChange?: ShapeChange;
  /** Present when only one side has the output: `before` is the reference, `after` the checked model. */
  readonly missingIn?: 'before' | 'after';
}

/**
 * Two tensors of one name whose shapes differ (a pruned channel count, a changed batch): they are
 * not comparable element by element, so their max abs/rel errors read "Infinity" and the cosine is
 * null; readers print this instead of those figures.
 */
export interface ShapeChange {
  readonly before: readonly number[];
  readonly after: readonly number[];
}

/** One comparison of a model against the reference on the check inputs. */
export interface OutputsCheck {
  /** `onnxruntime`, or `reference` when ORT lacks an op (then `notes` say which). */
  readonly engine: string;
  readonly atol: number;
  readonly rtol: number;
  readonly outputs: readonly OutputMetrics[];
  /** Accuracy of the checked model on the labelled dataset, when one was given. */
  readonly accuracy?: AccuracyFigure;
  readonly withinTolerance: boolean;
  /** Whether the accuracy budget held (absent without a labelled dataset). */
  readonly withinBudget?: boolean;
  readonly notes?: readonly string[];
}

export interface CheckReport {
  readonly atol: number;
  readonly rtol: number;
  /** Largest allowed top-1 accuracy drop, 0..1, when a labelled dataset is given. */
  readonly accuracyBudget?: number;
  readonly inputs: CheckInputs;
  readonly status: 'passed' | 'failed';
  /** The pass after which the check failed. */
  readonly failedPass?: { readonly index: number; readonly name: string };
  /** The first node, in topological order, whose output diverges between the model before and after the failing pass. */
  readonly divergence?: Divergence;
  /** Folder holding the pre-pass model, the pipeline text and the inputs. */
  readonly reproducer?: string;
  readonly notes?: readonly string[];
}

export interface CheckInputs {
  readonly source: 'random' | 'folder' | 'dataset';
  /** Folder or dataset spec. */
  readonly path?: string;
  readonly seed?: number;
  readonly samples: number;
}

export interface Divergence {
  readonly node: string;
  readonly op: string;
  /** `file:line:column` or op path of the node, when the model carries locations. */
  readonly location?: string;
  /** The output tensor compared. */
  readonly tensor: string;
  readonly maxAbsError: ReportNumber;
  readonly maxRelError: ReportNumber;
  readonly cosine: number | null;
  /** Present when the tensor changed shape (not compared element by element). */
  readonly shapeChange?: ShapeChange;
  /** Intermediate tensors compared (present in both models) before the divergence was found. */
  readonly comparedTensors: number;
}

export interface ModelDiff {
  readonly nodes: {
    readonly added: readonly DiffNode[];
    readonly removed: readonly DiffNode[];
    readonly changed: readonly ChangedNode[];
    /** Nodes matched and equal. */
    readonly unchanged: number;
  };
  readonly initializers: {
    readonly added: readonly DiffTensor[];
    readonly removed: readonly DiffTensor[];
    readonly changed: readonly ChangedTensor[];
    readonly unchanged: number;
  };
  readonly graphInputs: GraphIoDiff;
  readonly graphOutputs: GraphIoDiff;
  /** Intermediate tensors present in both models, compared on the same inputs (with `--inputs`/random inputs). */
  readonly tensors?: TensorDivergenceTable;
}

export interface DiffNode {
  readonly name: string;
  readonly op: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
}

export interface ChangedNode {
  /** Name in the first model. */
  readonly name: string;
  /** Name in the second model when it differs (matched by structure). */
  readonly renamedTo?: string;
  readonly matchedBy: 'name' | 'structure';
  readonly op: string;
  /** Present when the op changed (matched by name). */
  readonly opAfter?: string;
  readonly attributes: readonly AttributeChange[];
  /** Input positions whose producer or constant differs (`*Kind`: what the value is on that side). */
  readonly inputs: readonly {
    readonly index: number;
    readonly before: string | null;
    readonly after: string | null;
    readonly beforeKind?: SourceKind;
    readonly afterKind?: SourceKind;
  }[];
}

/** What feeds a node input: a graph input, a constant (initializer or Constant node), another node's output, nothing. */
export type SourceKind = 'graph-input' | 'constant' | 'node' | 'none';

export interface AttributeChange {
  readonly name: string;
  /** Printed value (absent when the attribute is missing on that side). */
  readonly before?: string;
  readonly after?: string;
}

export interface DiffTensor {
  readonly name: string;
  readonly dtype: string;
  readonly shape: readonly number[];
}

export interface ChangedTensor extends DiffTensor {
  readonly dtypeAfter?: string;
  readonly shapeAfter?: readonly number[];
  readonly maxAbsError: ReportNumber;
  readonly maxRelError: ReportNumber;
  readonly cosine: number | null;
}

export interface GraphIoDiff {
  readonly added: readonly ValueSignature[];
  readonly removed: readonly ValueSignature[];
  readonly changed: readonly { readonly name: string; readonly before: string; readonly after: string }[];
}

export interface TensorDivergenceTable {
  readonly engine: string;
  readonly inputs: CheckInputs;
  readonly compared: number;
  /** Tensors in topological order of the first model; only those with any difference unless all were asked for. */
  readonly tensors: readonly TensorDivergence[];
  /** The first tensor (topological order) outside the tolerance. */
  readonly firstDivergent?: string;
  readonly atol: number;
  readonly rtol: number;
}

export interface TensorDivergence {
  readonly name: string;
  /** Producer in the first model. */
  readonly node: string;
  readonly op: string;
  readonly maxAbsError: ReportNumber;
  readonly maxRelError: ReportNumber;
  readonly cosine: number | null;
  readonly withinTolerance: boolean;
  /** Present when the tensor changed shape (not compared element by element). */
  readonly shapeChange?: ShapeChange;
}

export interface ReportDiagnostic {
  readonly severity: 'error' | 'warning' | 'note';
  readonly reason: string;
  readonly location?: string;
}
