/**
 * A unified line diff (`-` expected, `+` actual, with context lines and `@@` hunk headers), small and
 * dependency-free, for golden mismatches that read well in any test runner's output.
 */

export interface LineDiffOptions {
  /** Unchanged lines shown around each change (default 3). */
  readonly context?: number;
  readonly expectedLabel?: string;
  readonly actualLabel?: string;
}

type Edit = { readonly kind: ' ' | '-' | '+'; readonly text: string; readonly expectedLine: number; readonly actualLine: number };

/** Longest-common-subsequence edit script; golden files are small (hundreds of lines), so O(n·m) is fine. */
function editScript(expected: readonly string[], actual: readonly string[]): Edit[] {
  const n = expected.length;
  const m = actual.length;
  const lcs: Uint32Array[] = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lcs[i]![j] = expected[i] === actual[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
    }
  }
  const edits: Edit[] = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && expected[i] === actual[j]) {
      edits.push({ kind: ' ', text: expected[i]!, expectedLine: i++, actualLine: j++ });
    } else if (i < n && (j === m || lcs[i + 1]![j]! >= lcs[i]![j + 1]!)) {
      edits.push({ kind: '-', text: expected[i]!, expectedLine: i++, actualLine: j });
    } else {
      edits.push({ kind: '+', text: actual[j]!, expectedLine: i, actualLine: j++ });
    }
  }
  return edits;
}

/** The unified diff of two texts, or an empty string when they are equal. */
export function diffLines(expected: string, actual: string, options: LineDiffOptions = {}): string {
  if (expected === actual) return '';
  const context = options.context ?? 3;
  const edits = editScript(expected.split('\n'), actual.split('\n'));
  const changed = edits.flatMap((edit, index) => (edit.kind === ' ' ? [] : [index]));
  const hunks: Array<[number, number]> = [];
  for (const index of changed) {
    const start = Math.max(0, index - context);
    const end = Math.min(edits.length, index + context + 1);
    const last = hunks[hunks.length - 1];
    if (last && start <= last[1]) last[1] = Math.max(last[1], end);
    else hunks.push([start, end]);
  }
  const lines = [`--- ${options.expectedLabel ?? 'expected'}`, `+++ ${options.actualLabel ?? 'actual'}`];
  for (const [start, end] of hunks) {
    const slice = edits.slice(start, end);
    const expectedCount = slice.filter((e) => e.kind !== '+').length;
    const actualCount = slice.filter((e) => e.kind !== '-').length;
    lines.push(`@@ -${slice[0]!.expectedLine + 1},${expectedCount} +${slice[0]!.actualLine + 1},${actualCount} @@`);
    for (const edit of slice) lines.push(`${edit.kind}${edit.text}`);
  }
  if (expected.endsWith('\n') !== actual.endsWith('\n')) lines.push('\\ the two texts differ in their final newline');
  return lines.join('\n');
}
