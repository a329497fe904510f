/**
 * Output comparison: per output and overall maximum absolute and relative error, cosine similarity
 * and, for classifier-shaped outputs, top-1 agreement, plus a verdict against a tolerance with the
 * worst element. NaN handling is explicit: NaN against NaN is a match unless `nanEqual` is false,
 * NaN against a number is an infinite error; integer, bool and string outputs compare exactly.
 */
import { isFloatDType, type Tensor } from '@modelpass/ir';

export interface CompareOptions {
  /**
   * Floor of the denominator of the relative error `|a - e| / max(|e|, relativeFloor)`, so exact
   * zeros in the expected output do not turn tiny absolute errors into huge relative ones
   * (default 1e-6).
   */
  readonly relativeFloor?: number;
  /** Element-wise tolerance for `withinTolerance`, numpy `allclose` style: `|a - e| <= atol + rtol * |e|`. */
  readonly atol?: number;
  readonly rtol?: number;
  /**
   * Whether NaN in both outputs at the same position counts as agreement (default true: a model
   * that computed NaN before and after a conversion kept its behaviour). With false, every NaN is
   * a disagreement. NaN against a number is always one.
   */
  readonly nanEqual?: boolean;
}

/** The element furthest outside the tolerance (the largest error when all are within it). */
export interface WorstElement {
  /** Position in the output, one index per axis (`[]` for a scalar). */
  readonly index: readonly number[];
  /** The first (reference) output's value; strings for string outputs. */
  readonly expected: number | string;
  readonly actual: number | string;
  /** `|actual - expected|` (Infinity for NaN against a number, or mismatched strings). */
  readonly absError: number;
  /** `atol + rtol * |expected|` for this element (0 for exact comparisons). */
  readonly tolerance: number;
}

/**
 * The absolute term, as a fraction of the output's largest |expected|, for an output that lies
 * entirely within `atol`: a check for gross errors only. Not rtol: a deep net's tiny outputs
 * (PaddleOCR det's sigmoids of large negative logits, ~1e-6) differ between two correct float engines
 * by up to ~6% of their scale, while a zeroed, negated or doubled output is off by 100% of it at its
 * largest element. An error under half the scale (a 0.7× copy) is not caught.
 */
export const UNDER_ATOL_SCALE = 0.5;

export interface OutputComparison {
  readonly name: string;
  readonly expectedDType: string | undefined;
  readonly actualDType: string | undefined;
  readonly expectedShape: readonly number[] | undefined;
  readonly actualShape: readonly number[] | undefined;
  /** False when the output is absent from one side. */
  readonly present: boolean;
  readonly shapeMatch: boolean;
  readonly dtypeMatch: boolean;
  /** Infinity when shapes differ or a NaN/infinity stands against a different value. */
  readonly maxAbsError: number;
  readonly maxRelError: number;
  /** Cosine similarity of the flattened outputs (finite elements only); null when not comparable. */
  readonly cosine: number | null;
  /** Fraction of rows with the same argmax, for 2-D [batch, classes] float outputs; otherwise null. */
  readonly top1Agreement: number | null;
  /** Elements outside the tolerance (all of them when shapes differ). */
  readonly mismatchedElements: number;
  readonly elementCount: number;
  /** Every element within `atol + rtol * |expected|` (exact equality for integer, bool, string outputs). */
  readonly withinTolerance: boolean;
  /** True when the comparison was exact (integer, bool, string outputs). */
  readonly exact: boolean;
  /** The worst element; null when there is none to point at (no elements, shape mismatch, missing output). */
  readonly worst: WorstElement | null;
  /**
   * True when every expected element lies within `atol` (0 < max |expected| <= atol), so `atol`
   * alone would accept any output of that size, zeros included: such an output is judged at its
   * own scale instead, `|a - e| <= UNDER_ATOL_SCALE * max|expected| + rtol * |e|` (float noise
   * passes, a zeroed or rescaled output does not). False for exact comparisons and all-zero expectations.
   */
  readonly underAtol: boolean;
  /** The absolute term used for this output: `atol`, or `UNDER_ATOL_SCALE * max|expected|` when `underAtol`. */
  readonly atol: number;
}

export interface ComparisonReport {
  readonly perOutput: readonly OutputComparison[];
  readonly maxAbsError: number;
  readonly maxRelError: number;
  /** The smallest cosine over outputs (null when none is comparable). */
  readonly cosine: number | null;
  /** The smallest top-1 agreement over classifier-shaped outputs (null when there are none). */
  readonly top1Agreement: number | null;
  readonly withinTolerance: boolean;
  /** The tolerance used: `|a - e| <= atol + rtol * |e|`, NaN matching NaN when `nanEqual`. */
  readonly atol: number;
  readonly rtol: number;
  readonly nanEqual: boolean;
  /** Output names present in only one of the two maps. */
  readonly missingOutputs: readonly string[];
}

export const DEFAULT_ATOL = 1e-5;
export const DEFAULT_RTOL = 1e-3;
export const DEFAULT_RELATIVE_FLOOR = 1e-6;

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** Elements as numbers for comparison (int64 beyond 2^53 is compared exactly, see `exactMismatches`). */
function numbersOf(tensor: Tensor): ArrayLike<number> {
  const data = tensor.data();
  if (data instanceof BigInt64Array || data instanceof BigUint64Array) return Array.from(data, Number);
  return data as ArrayLike<number>;
}

/** `|actual - expected|`, with NaN and opposite infinities made explicit (see `nanEqual`). */
function absoluteError(expected: number, actual: number, nanEqual: boolean): number {
  if (Number.isNaN(expected) || Number.isNaN(actual)) return nanEqual && Number.isNaN(expected) && Number.isNaN(actual) ? 0 : Infinity;
  if (expected === actual) return 0;
  const abs = Math.abs(actual - expected);
  return Number.isNaN(abs) ? Infinity : abs; // inf - inf of different signs
}

/** The per-axis index of flat position `flat` in a C-order tensor of `shape`. */
export function unflattenIndex(flat: number, shape: readonly number[]): number[] {
  const index = new Array<number>(shape.length).fill(0);
  for (let axis = shape.length - 1; axis >= 0 && flat > 0; axis--) {
    const size = shape[axis]!;
    index[axis] = flat % size;
    flat = Math.floor(flat / size);
  }
  return index;
}

function argmaxRows(values: ArrayLike<number>, rows: number, columns: number): number[] {
  const result: number[] = [];
  for (let r = 0; r < rows; r++) {
    let best = -1;
    let bestValue = -Infinity;
    for (let c = 0; c < columns; c++) {
      const v = values[r * columns + c]!;
      if (!Number.isNaN(v) && (best < 0 || v > bestValue)) {
        best = c;
        bestValue = v;
      }
    }
    result.push(best);
  }
  return result;
}

function isClassifierShaped(tensor: Tensor): boolean {
  return isFloatDType(tensor.dtype) && tensor.rank === 2 && tensor.shape[0]! >= 1 && tensor.shape[1]! >= 2;
}

/** Compares one output pair. */
export function compareTensors(name: string, expected: Tensor, actual: Tensor, options: CompareOptions = {}): OutputComparison {
  const atol = options.atol ?? DEFAULT_ATOL;
  const rtol = options.rtol ?? DEFAULT_RTOL;
  const floor = options.relativeFloor ?? DEFAULT_RELATIVE_FLOOR;
  const nanEqual = options.nanEqual ?? true;
  const shapeMatch = sameShape(expected.shape, actual.shape);
  const dtypeMatch = expected.dtype === actual.dtype;
  const base = {
    name,
    expectedDType: expected.dtype,
    actualDType: actual.dtype,
    expectedShape: expected.shape,
    actualShape: actual.shape,
    present: true,
    shapeMatch,
    dtypeMatch,
    elementCount: expected.size,
  };
  const stringOrMixed = expected.dtype === 'string' || actual.dtype === 'string';
  const exact = !isFloatDType(expected.dtype) || !isFloatDType(actual.dtype);
  if (!shapeMatch || (stringOrMixed && !dtypeMatch)) {
    return { ...base, maxAbsError: Infinity, maxRelError: Infinity, cosine: null, top1Agreement: null, mismatchedElements: Math.max(expected.size, actual.size), withinTolerance: false, exact, worst: null, underAtol: false, atol };
  }
  if (stringOrMixed) {
    const a = expected.strings ?? [];
    const b = actual.strings ?? [];
    const mismatched = a.filter((s, i) => s !== b[i]).length;
    const at = mismatched ? a.findIndex((s, i) => s !== b[i]) : a.length ? 0 : -1;
    const worst = at < 0 ? null : { index: unflattenIndex(at, expected.shape), expected: a[at]!, actual: b[at]!, absError: mismatched ? Infinity : 0, tolerance: 0 };
    return { ...base, maxAbsError: mismatched ? Infinity : 0, maxRelError: mismatched ? Infinity : 0, cosine: null, top1Agreement: null, mismatchedElements: mismatched, withinTolerance: mismatched === 0, exact: true, worst, underAtol: false, atol: 0 };
  }
  const e = numbersOf(expected);
  const a = numbersOf(actual);
  // An output entirely within atol is judged at its own scale (see OutputComparison.underAtol).
  let maxExpected = 0;
  if (!exact) for (let i = 0; i < e.length; i++) maxExpected = Math.max(maxExpected, Number.isNaN(e[i]!) ? Infinity : Math.abs(e[i]!));
  const underAtol = !exact && maxExpected > 0 && maxExpected <= atol;
  const absoluteTerm = exact ? 0 : underAtol ? UNDER_ATOL_SCALE * maxExpected : atol;
  let maxAbs = 0;
  let maxRel = 0;
  let mismatched = 0;
  let dot = 0;
  let normE = 0;
  let normA = 0;
  let worstAt = -1;
  let worstExcess = -Infinity;
  for (let i = 0; i < e.length; i++) {
    const ev = e[i]!;
    const av = a[i]!;
    const abs = absoluteError(ev, av, nanEqual);
    const rel = abs === 0 ? 0 : abs / Math.max(Math.abs(ev), floor);
    if (abs > maxAbs) maxAbs = abs;
    if (rel > maxRel) maxRel = rel;
    // An infinite expected value is matched only by the same infinity, never "within rtol·∞".
    const tolerance = exact || !Number.isFinite(ev) ? 0 : absoluteTerm + rtol * Math.abs(ev);
    const ok = abs === 0 || abs <= tolerance;
    if (!ok) mismatched++;
    const excess = abs - tolerance;
    if (excess > worstExcess || (Number.isNaN(excess) && worstAt < 0)) {
      worstExcess = excess;
      worstAt = i;
    }
    if (Number.isFinite(ev) && Number.isFinite(av)) {
      dot += ev * av;
      normE += ev * ev;
      normA += av * av;
    }
  }
  if (exact) mismatched = exactMismatches(expected, actual);
  let cosine: number | null;
  if (maxAbs === 0) cosine = 1; // identical (NaN matching NaN included): exactly 1, not 1 - ulp
  else if (normE === 0 && normA === 0) cosine = null;
  else if (normE === 0 || normA === 0) cosine = 0;
  else cosine = Math.max(-1, Math.min(1, dot / (Math.sqrt(normE) * Math.sqrt(normA))));
  let top1Agreement: number | null = null;
  if (isClassifierShaped(expected) && isClassifierShaped(actual)) {
    const [rows, columns] = expected.shape as [number, number];
    const expectedTop = argmaxRows(e, rows, columns);
    const actualTop = argmaxRows(a, rows, columns);
    top1Agreement = expectedTop.filter((c, r) => c === actualTop[r]).length / rows;
  }
  let worst: WorstElement | null = null;
  if (worstAt >= 0) {
    const ev = e[worstAt]!;
    const av = a[worstAt]!;
    worst = { index: unflattenIndex(worstAt, expected.shape), expected: ev, actual: av, absError: absoluteError(ev, av, nanEqual), tolerance: exact || !Number.isFinite(ev) ? 0 : absoluteTerm + rtol * Math.abs(ev) };
  }
  return { ...base, maxAbsError: maxAbs, maxRelError: maxRel, cosine, top1Agreement, mismatchedElements: mismatched, withinTolerance: mismatched === 0, exact, worst, underAtol, atol: absoluteTerm };
}

/** Exact element mismatches for integer and bool tensors (bigints compared as bigints). */
function exactMismatches(expected: Tensor, actual: Tensor): number {
  const e = expected.data() as ArrayLike<number | bigint>;
  const a = actual.data() as ArrayLike<number | bigint>;
  let count = 0;
  for (let i = 0; i < e.length; i++) {
    const ev = e[i]!;
    const av = a[i]!;
    const equal = typeof ev === typeof av ? ev === av : Number(ev) === Number(av);
    if (!equal && !(Number.isNaN(Number(ev)) && Number.isNaN(Number(av)))) count++;
  }
  return count;
}

function missingComparison(name: string, expected: Tensor | undefined, actual: Tensor | undefined): OutputComparison {
  return {
    name,
    expectedDType: expected?.dtype,
    actualDType: actual?.dtype,
    expectedShape: expected?.shape,
    actualShape: actual?.shape,
    present: false,
    shapeMatch: false,
    dtypeMatch: false,
    maxAbsError: Infinity,
    maxRelError: Infinity,
    cosine: null,
    top1Agreement: null,
    mismatchedElements: (expected ?? actual)!.size,
    elementCount: (expected ?? actual)!.size,
    withinTolerance: false,
    exact: false,
    worst: null,
    underAtol: false,
    atol: 0,
  };
}

/**
 * Compares two sets of outputs by name: every output of `expected`, then those only in `actual`.
 * Overall figures are the worst over outputs (largest errors, smallest cosine and agreement).
 */
export function compareOutputs(expected: ReadonlyMap<string, Tensor>, actual: ReadonlyMap<string, Tensor>, options: CompareOptions = {}): ComparisonReport {
  const perOutput: OutputComparison[] = [];
  const missingOutputs: string[] = [];
  for (const [name, tensor] of expected) {
    const other = actual.get(name);
    if (!other) {
      missingOutputs.push(name);
      perOutput.push(missingComparison(name, tensor, undefined));
    } else {
      perOutput.push(compareTensors(name, tensor, other, options));
    }
  }
  for (const [name, tensor] of actual) {
    if (!expected.has(name)) {
      missingOutputs.push(name);
      perOutput.push(missingComparison(name, undefined, tensor));
    }
  }
  const worst = (values: (number | null)[], pick: (a: number, b: number) => number): number | null => {
    const present = values.filter((v): v is number => v !== null);
    return present.length ? present.reduce((a, b) => pick(a, b)) : null;
  };
  return {
    perOutput,
    maxAbsError: perOutput.reduce((m, o) => Math.max(m, o.maxAbsError), 0),
    maxRelError: perOutput.reduce((m, o) => Math.max(m, o.maxRelError), 0),
    cosine: worst(perOutput.map((o) => o.cosine), Math.min),
    top1Agreement: worst(perOutput.map((o) => o.top1Agreement), Math.min),
    withinTolerance: perOutput.every((o) => o.withinTolerance),
    atol: options.atol ?? DEFAULT_ATOL,
    rtol: options.rtol ?? DEFAULT_RTOL,
    nanEqual: options.nanEqual ?? true,
    missingOutputs,
  };
}
