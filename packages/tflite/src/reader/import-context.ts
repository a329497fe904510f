import type { FlatBytes, TableReader } from './table-reader.js';
import type { TfliteSourceFile } from '../io/source-file.js';
import type { ResolvedTfliteReadLimits } from './read-limits.js';

/** One OperatorCode of the file: the builtin name (max of both code fields), custom code, version. */
export interface OperatorCodeInfo {
  readonly builtin: string;
  readonly customCode: string | undefined;
  readonly version: number;
}

/** What every part of one import shares. */
export interface ImportContext {
  readonly file: string;
  readonly bytes: FlatBytes;
  readonly source: TfliteSourceFile;
  readonly buffers: readonly TableReader[];
  readonly operatorCodes: readonly OperatorCodeInfo[];
  readonly subgraphs: readonly TableReader[];
  readonly limits: ResolvedTfliteReadLimits;
  /** Operators imported so far, each call's copy of a subgraph counted (for maxNodeCount and maxRegionExpansion). */
  nodeCount: number;
  /** Operators the file holds, over every subgraph, each counted once. */
  readonly fileNodeCount: number;
  /** Subgraphs imported as regions of operators. */
  readonly called: Set<number>;
  /** Sparse constants densified, by tensor path (each once): their bytes as stored and dense. */
  readonly densified: Map<string, { readonly storedBytes: number; readonly denseBytes: number }>;
}
