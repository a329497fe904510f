/**
 * The structure of pipeline text before any name is resolved (phase 1 of parsing). Columns are
 * 1-based positions in the pipeline text (which is always one line).
 */

/** A value as written: a scalar (bare or quoted; the quotes are gone) or a bracketed list. */
export type OptionValueAst = ScalarValueAst | ListValueAst;

export interface ScalarValueAst {
  readonly kind: 'scalar';
  readonly text: string;
  readonly column: number;
}

export interface ListValueAst {
  readonly kind: 'list';
  readonly items: readonly ScalarValueAst[];
  readonly column: number;
}

/** `key=value` inside a pass's braces. */
export interface OptionAst {
  readonly key: string;
  readonly value: OptionValueAst;
  readonly column: number;
}

/** `name{options}(nested)`: a pass, or an anchor such as `repeat` holding a nested pipeline. */
export interface PipelineElementAst {
  readonly name: string;
  readonly column: number;
  readonly options: readonly OptionAst[];
  /** The pipeline in parentheses; undefined when there are none. */
  readonly nested?: PipelineAst;
}

export interface PipelineAst {
  readonly elements: readonly PipelineElementAst[];
}
