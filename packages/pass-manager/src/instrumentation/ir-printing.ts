import { join } from 'node:path';
import { ModelpassError, printModel, writeFileAtomic, type Model } from '@modelpass/ir';
import { passSteps } from '../pipeline/pipeline.js';
import { closestName } from '../suggest.js';
import type { PassInstrumentation, PassRunInfo, PipelineRunInfo } from './instrumentation.js';

/** Which passes to print around: their names, or `'all'`. */
export type PassSelection = readonly string[] | 'all';

export interface IrPrintingOptions {
  /** Print the IR before these passes (`--print-ir-before=a,b`, `--print-ir-before-all`). */
  readonly before?: PassSelection;
  /** Print the IR after these passes (`--print-ir-after=a,b`, `--print-ir-after-all`). */
  readonly after?: PassSelection;
  /** With `after`: print only when the printed IR differs from before the pass (`--print-ir-after-change`). */
  readonly onlyOnChange?: boolean;
  /** Also print the IR after a selected pass failed (default true). */
  readonly afterFailure?: boolean;
  /**
   * Write dumps as files into this folder instead of to `write`: `000-input.mpir`, then
   * `NNN-<pass>.mpir` after pass execution NNN (and `NNN-<pass>.before.mpir` for `before`).
   * Without `before`/`after`, every pass is dumped after it runs.
   */
  readonly dumpDirectory?: string;
  /** Where printed IR goes when there is no `dumpDirectory` (default: stderr). */
  readonly write?: (text: string) => void;
  /** Options for `printModel` (e.g. eliding large constants). */
  readonly printOptions?: Parameters<typeof printModel>[1];
}

function selects(selection: PassSelection | undefined, passName: string): boolean {
  return selection === 'all' || (selection !== undefined && selection.includes(passName));
}

/**
 * Prints the IR around passes, like MLIR's `-mlir-print-ir-before/-after(-all|-change)`, to a
 * stream or as numbered dump files.
 */
export class IrPrintingInstrumentation implements PassInstrumentation {
  readonly name = 'ir-printing';
  private readonly before: PassSelection | undefined;
  private readonly after: PassSelection | undefined;
  private readonly pending = new Map<number, string>();
  /** Files written so far (with `dumpDirectory`). */
  readonly files: string[] = [];

  constructor(private readonly options: IrPrintingOptions) {
    this.before = options.before;
    this.after = options.after ?? (options.dumpDirectory !== undefined && options.before === undefined ? 'all' : undefined);
  }

  private print(model: Model): string {
    return printModel(model, this.options.printOptions);
  }

  private emit(text: string, header: string, fileName: string): void {
    if (this.options.dumpDirectory !== undefined) {
      const path = join(this.options.dumpDirectory, fileName);
      writeFileAtomic(path, `// ${header}\n${text}`);
      this.files.push(path);
    } else {
      const write = this.options.write ?? ((t: string) => void process.stderr.write(t));
      write(`// -----// ${header} //----- //\n${text}${text.endsWith('\n') ? '' : '\n'}\n`);
    }
  }

  beforePipeline(model: Model, run: PipelineRunInfo): void {
    this.pending.clear();
    const known = new Set(run.environment.passes.names());
    const inPipeline = [...new Set([...passSteps(run.pipeline.steps)].map((step) => step.pass.name))];
    for (const name of inPipeline) known.add(name);
    for (const [flag, selection] of [['before', this.before], ['after', this.after]] as const) {
      if (selection === undefined || selection === 'all') continue;
      for (const name of selection) {
        if (known.has(name)) continue;
        const suggestion = closestName(name, known);
        throw new ModelpassError({
          reason: `IR printing ${flag} names unknown pass '${name}'${suggestion ? ` — did you mean '${suggestion}'?` : ''}`,
          expected: `a registered pass, e.g. one of this pipeline's: ${inPipeline.length ? inPipeline.join(', ') : '(none)'}`,
          source: '@modelpass/pass-manager',
          code: 'ir-printing/unknown-pass',
        });
      }
    }
    if (this.options.dumpDirectory !== undefined) this.emit(this.print(model), 'IR of the pipeline input', '000-input.mpir');
  }

  private fileName(pass: PassRunInfo, suffix: string): string {
    return `${String(pass.index).padStart(3, '0')}-${pass.passName}${suffix}.mpir`;
  }

  beforePass(model: Model, pass: PassRunInfo): void {
    const wantsBefore = selects(this.before, pass.passName);
    const needsSnapshot = this.options.onlyOnChange === true && selects(this.after, pass.passName);
    if (!wantsBefore && !needsSnapshot) return;
    const text = this.print(model);
    if (needsSnapshot) this.pending.set(pass.index, text);
    if (wantsBefore) this.emit(text, `IR Dump Before ${pass.passName} (#${pass.index})`, this.fileName(pass, '.before'));
  }

  afterPass(model: Model, pass: PassRunInfo): void {
    if (!selects(this.after, pass.passName)) return;
    const text = this.print(model);
    const previous = this.pending.get(pass.index);
    this.pending.delete(pass.index);
    if (this.options.onlyOnChange && previous === text) return;
    this.emit(text, `IR Dump After ${pass.passName} (#${pass.index})`, this.fileName(pass, ''));
  }

  afterPassFailed(model: Model, pass: PassRunInfo): void {
    this.pending.delete(pass.index);
    if (this.options.afterFailure === false || !selects(this.after, pass.passName)) return;
    let text: string;
    try {
      text = this.print(model);
    } catch {
      return;
    }
    this.emit(text, `IR Dump After ${pass.passName} Failed (#${pass.index})`, this.fileName(pass, '.failed'));
  }
}
