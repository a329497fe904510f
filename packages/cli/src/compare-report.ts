import { UNDER_ATOL_SCALE, type ModelComparison, type OutputComparison } from '@modelpass/runtime';

/** What `modelpass compare --json` prints: the runtime's report plus the verdict and the sizes given to symbolic dims. */
export interface CompareVerdict extends ModelComparison {
  readonly verdict: 'agree' | 'disagree';
  /** Per output name: 'agree' or 'disagree'. */
  readonly verdicts: Readonly<Record<string, 'agree' | 'disagree'>>;
  /** Sizes used for the symbolic dimensions of generated inputs (given with --dim or defaulted). */
  readonly dims: Readonly<Record<string, number>>;
  /** Inputs fed the values given with --input-value (name → the values, row-major); absent when none. */
  readonly fixedInputs?: Readonly<Record<string, readonly string[]>>;
}

export function withVerdict(
  report: ModelComparison,
  dims: Readonly<Record<string, number>>,
  fixedInputs?: ReadonlyMap<string, readonly string[]>,
): CompareVerdict {
  const verdicts: Record<string, 'agree' | 'disagree'> = {};
  for (const output of report.perOutput) verdicts[output.name] = output.withinTolerance ? 'agree' : 'disagree';
  const fixed = fixedInputs && fixedInputs.size > 0 ? { fixedInputs: Object.fromEntries(fixedInputs) } : {};
  return { verdict: report.withinTolerance ? 'agree' : 'disagree', verdicts, dims, ...fixed, ...report };
}

/**
 * The header's inputs line: each input with its dtype and shape, and where its values came from. Without
 * --input-value one note covers them all ('(random, seed 0)' when generated); with it, the fixed inputs
 * say so with their values (what was fed), and the generated ones keep the seed note.
 */
function describeInputs(v: CompareVerdict): string {
  const fixed = v.fixedInputs ?? {};
  const described = v.inputs.map((i) => ({ text: `${i.name} ${i.dtype}${shape(i.shape)}`, values: fixed[i.name] }));
  if (described.length === 0) return '(none)';
  // Ids that index a small table were drawn within its rows: say which range and why (the default is [0, 9]).
  const held = Object.entries(v.inputRanges ?? {}).map(([name, r]) => `; ${name} in [${r.min}, ${r.max}]: ${r.reader}`).join('');
  const random = v.seed !== null ? ` (random, seed ${v.seed}${held})` : '';
  if (described.every((d) => d.values === undefined)) return described.map((d) => d.text).join(', ') + random;
  const listed = (values: readonly string[]): string => (values.length > 8 ? `${values.slice(0, 8).join(',')},… (${values.length} values)` : values.join(','));
  return described.map((d) => (d.values !== undefined ? `${d.text} = ${listed(d.values)} (from --input-value)` : d.text + random)).join(', ');
}

/** A figure as the reports print it: integers whole, others to 6 significant digits (4 in exponent form), inf/NaN/n/a by name. */
export function formatFigure(x: number | 'Infinity' | '-Infinity' | 'NaN' | null | undefined): string {
  if (x === null || x === undefined) return 'n/a';
  if (typeof x === 'string') x = Number(x);
  if (Number.isNaN(x)) return 'NaN';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  if (Number.isInteger(x) && Math.abs(x) < 1e15) return String(x);
  const text = Math.abs(x) < 1e-3 || Math.abs(x) >= 1e6 ? x.toExponential(3) : x.toPrecision(6);
  // Trailing zeros of the mantissa only: 7.713e-10 keeps its exponent's 0 (was printed 7.713e-1).
  const [mantissa, exponent = ''] = text.split('e');
  return (mantissa.includes('.') ? mantissa.replace(/\.?0+$/, '') : mantissa) + (exponent ? `e${exponent}` : '');
}

const number = formatFigure;

function shape(s: readonly number[] | undefined): string {
  return s ? `[${s.join(',')}]` : '?';
}

function describeOutput(o: OutputComparison): string {
  const head = `${o.name}: ${o.withinTolerance ? 'agree' : 'DISAGREE'}`;
  if (!o.present) return `${head} — only in ${o.expectedDType === undefined ? 'b' : 'a'}`;
  if (!o.shapeMatch) return `${head} — shape ${o.expectedDType}${shape(o.expectedShape)} in a, ${o.actualDType}${shape(o.actualShape)} in b`;
  const parts: string[] = [];
  if (!o.dtypeMatch) parts.push(`dtype ${o.expectedDType} in a, ${o.actualDType} in b`);
  if (o.mismatchedElements > 0) parts.push(`${o.mismatchedElements} of ${o.elementCount} elements outside the tolerance`);
  parts.push(o.exact ? 'compared exactly' : `max abs ${number(o.maxAbsError)}, max rel ${number(o.maxRelError)}, cosine ${number(o.cosine)}`);
  if (o.top1Agreement !== null) parts.push(`top-1 agreement ${number(o.top1Agreement)}`);
  // Older reports (and the web page's) have no underAtol: read it as false.
  if (o.underAtol === true) parts.push(`every |a| is within atol, so judged at its own scale: |a - b| <= ${number(o.atol)} (${UNDER_ATOL_SCALE}·max|a|) + rtol·|a|`);
  let line = `${head} — ${parts.join('; ')}`;
  if (o.worst) {
    const w = o.worst;
    // Nine significant digits tell any two float32 values apart.
    const value = (v: number | string) => (typeof v === 'string' ? JSON.stringify(v) : Number.isFinite(v) && !Number.isInteger(v) ? String(Number(v.toPrecision(9))) : number(v));
    const within = w.absError <= w.tolerance || w.absError === 0;
    line += `\n    worst at [${w.index.join(',')}]: a ${value(w.expected)}, b ${value(w.actual)} (|a - b| ${number(w.absError)} ${within ? '≤' : '>'} ${number(w.tolerance)})`;
  }
  return line;
}

/** The human form: the inputs used, the rule, one line per output, the verdict last. */
export function formatVerdict(v: CompareVerdict, files: readonly [string, string]): string {
  const lines = [
    `a: ${files[0]} (${v.engines[0]})`,
    `b: ${files[1]} (${v.engines[1]})`,
    `inputs: ${describeInputs(v)}`,
    `tolerance: |a - b| <= ${number(v.atol)} + ${number(v.rtol)}·|a|; NaN ${v.nanEqual ? 'matches NaN' : 'never matches'}`,
  ];
  for (const output of v.perOutput) lines.push(describeOutput(output));
  // Outputs pair by name: a renamed output shows up twice, "only in a" and "only in b"; say so once.
  const onlyA = v.perOutput.filter((o) => !o.present && o.expectedDType !== undefined).map((o) => `'${o.name}'`);
  const onlyB = v.perOutput.filter((o) => !o.present && o.expectedDType === undefined).map((o) => `'${o.name}'`);
  if (onlyA.length > 0 && onlyB.length > 0) {
    lines.push(`note: outputs pair by name: only a has ${onlyA.join(', ')}, only b has ${onlyB.join(', ')} (a renamed output is not compared)`);
  }
  const disagreeing = v.perOutput.filter((o) => !o.withinTolerance).length;
  lines.push(
    v.verdict === 'agree'
      ? `verdict: agree (${v.perOutput.length} output${v.perOutput.length === 1 ? '' : 's'})`
      : `verdict: disagree (${disagreeing} of ${v.perOutput.length} output${v.perOutput.length === 1 ? '' : 's'})`,
  );
  return lines.join('\n');
}
