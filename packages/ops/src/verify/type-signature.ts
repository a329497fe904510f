/**
 * ONNX type constraints as data: each operator version's formal inputs and outputs and the types
 * each type variable allows (generated from the ONNX specification into generated/), and the
 * type keys the checks compare (`float32`, `seq(int64)`, `optional(seq(float16))`, `sparse(float32)`).
 */
import type { Type } from '@modelpass/ir';

/**
 * One version: `[sinceVersion, inputs, outputs, constraints, attributes?]`; params read `name[?*+]:Var`, constraints
 * index `sets`, attributes are the names the version takes (absent: not recorded, nothing is checked).
 */
export type OnnxSignatureVersion =
  | readonly [number, readonly string[], readonly string[], Readonly<Record<string, number>>]
  | readonly [number, readonly string[], readonly string[], Readonly<Record<string, number>>, readonly string[]];

export type OnnxSignatureTable = {
  /** The type sets constraints index. */
  readonly sets: readonly string[];
  /** Every version up to this opset is in the table; newer ones only as the latest spec has them. */
  readonly completeThrough: number;
} & { readonly [op: string]: readonly OnnxSignatureVersion[] | readonly string[] | number };

export type ParamArity = 'single' | 'optional' | 'variadic' | 'heterogeneous';

export interface FormalParam {
  readonly name: string;
  readonly arity: ParamArity;
  /** The type variable (or concrete type, e.g. `tensor(int64)`) it is bound to. */
  readonly typeVariable: string;
}

export interface TypeSignature {
  readonly op: string;
  readonly sinceVersion: number;
  readonly inputs: readonly FormalParam[];
  readonly outputs: readonly FormalParam[];
  /** Allowed type keys per type variable. */
  readonly allowed: ReadonlyMap<string, ReadonlySet<string>>;
  /** The attribute names this version takes; undefined where the table does not record them. */
  readonly attributes?: ReadonlySet<string>;
}

const ARITY: Readonly<Record<string, ParamArity>> = { '': 'single', '?': 'optional', '*': 'variadic', '+': 'heterogeneous' };

function parseParam(text: string): FormalParam {
  const colon = text.indexOf(':');
  const head = text.slice(0, colon);
  const mark = /[?*+]$/.test(head) ? head.slice(-1) : '';
  return { name: mark ? head.slice(0, -1) : head, arity: ARITY[mark]!, typeVariable: text.slice(colon + 1) };
}

/** The key of a type as the generated table spells types; undefined when (part of) it is unknown. */
export function typeKey(type: Type | undefined): string | undefined {
  if (!type) return undefined;
  switch (type.kind) {
    case 'tensor':
      return type.dtype;
    case 'sparse-tensor':
      return `sparse(${type.dtype})`;
    case 'sequence':
    case 'optional': {
      const element = typeKey(type.element);
      return element === undefined ? undefined : `${type.kind === 'sequence' ? 'seq' : 'optional'}(${element})`;
    }
    case 'map': {
      const value = typeKey(type.value);
      return value === undefined ? undefined : `map(${type.key},${value})`;
    }
    case 'unknown':
      return undefined;
  }
}

/** Looks up and decodes (once each) the versions of ONNX operators from a generated table. */
export class TypeSignatures {
  private readonly decoded = new Map<string, readonly TypeSignature[]>();
  private readonly sets: ReadonlySet<string>[];

  constructor(private readonly table: OnnxSignatureTable) {
    this.sets = table.sets.map((set) => new Set(set.split(' ')));
  }

  /** Every version up to this opset is in the table; past it only each op's newest. */
  get completeThrough(): number {
    return this.table.completeThrough;
  }

  /** Every known version of `opType` (e.g. `Gemm`), oldest first; empty when the op is not in the table. */
  versions(opType: string): readonly TypeSignature[] {
    let versions = this.decoded.get(opType);
    if (versions) return versions;
    const entry = this.table[opType];
    const raw = Array.isArray(entry) && opType !== 'sets' ? (entry as readonly OnnxSignatureVersion[]) : undefined;
    versions = (raw ?? []).map(([sinceVersion, inputs, outputs, constraints, attributes]) => ({
      op: opType,
      sinceVersion,
      inputs: inputs.map(parseParam),
      outputs: outputs.map(parseParam),
      allowed: new Map(Object.entries(constraints).map(([variable, set]) => [variable, this.sets[set]!])),
      ...(attributes ? { attributes: new Set(attributes) } : {}),
    }));
    this.decoded.set(opType, versions);
    return versions;
  }

  /**
   * The versions a model of `opset` may hold: the one that opset selects (the newest not newer than
   * it), and, past the opset the table is complete through, every newer one too: the table may
   * miss versions between the Python schema history and the newest spec, so a node any of them
   * accepts is accepted there.
   */
  candidates(opType: string, opset: number | undefined): readonly TypeSignature[] {
    const versions = this.versions(opType);
    if (opset === undefined) return versions.slice(-1);
    let selected = -1;
    versions.forEach((version, i) => {
      if (version.sinceVersion <= opset) selected = i;
    });
    if (selected < 0) return [];
    return opset <= this.table.completeThrough ? [versions[selected]!] : versions.slice(selected);
  }
}
