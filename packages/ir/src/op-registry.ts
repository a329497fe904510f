import { ModelpassError } from './diagnostic.js';
import type { Model } from './model.js';
import type { Node } from './node.js';
import type { OpSchema } from './op-schema.js';
import type { Type } from './type.js';
import type { KnownValues } from './verifier.js';

/**
 * The contents of a registry. Tables become `sealed` once a second registry (a clone) or the `successors` cache of
 * other tables can see them; sealed tables never change again, and a registry holding them copies them before its
 * next change (copy-on-write).
 */
interface RegistryTables {
  readonly schemas: Map<string, OpSchema>;
  readonly owners: Map<string, string>;
  readonly openDialects: Set<string>;
  sealed: boolean;
  /**
   * Registrations of frozen schema lists already made on these (sealed) tables: list → owner → the sealed tables
   * they led to. Every conversion registers the same frozen list (the tflite dialect) on a clone of the same
   * canonical tables; the second time on it costs a lookup instead of a copy and hundreds of insertions.
   */
  successors: WeakMap<readonly OpSchema[], Map<string, RegistryTables>> | undefined;
}

function emptyTables(): RegistryTables {
  return { schemas: new Map(), owners: new Map(), openDialects: new Set(), sealed: false, successors: undefined };
}

function copyOf(tables: RegistryTables): RegistryTables {
  return {
    schemas: new Map(tables.schemas),
    owners: new Map(tables.owners),
    openDialects: new Set(tables.openDialects),
    sealed: false,
    successors: undefined,
  };
}

/**
 * How an op set computes the data of a model's values from known data (`@modelpass/ops` sets its `propagatedValues`
 * on the registry `createOpRegistry` returns); `registry` is the registry asked, plugin ops included.
 */
export type KnownValuesProvider = (model: Model, registry: OpRegistry) => KnownValues;

/**
 * A set of op schemas, looked up by op name. Registries are plain values: nothing registers itself
 * on import; a pipeline's registry is built from the canonical op set plus what plugins declare.
 * `clone` costs nothing up front: the copy shares this registry's tables until either of them changes.
 */
export class OpRegistry {
  private tables: RegistryTables = emptyTables();
  private knownValuesProvider: KnownValuesProvider | undefined;

  constructor(schemas: Iterable<OpSchema> = []) {
    for (const schema of schemas) this.register(schema);
  }

  /** The tables, copied first when another registry can see them. */
  private writableTables(): RegistryTables {
    if (this.tables.sealed) this.tables = copyOf(this.tables);
    return this.tables;
  }

  /** Adds schemas; registering an op twice is an error naming both owners. */
  register(schemas: OpSchema | Iterable<OpSchema>, owner = 'modelpass'): this {
    const before = this.tables;
    const frozenList = before.sealed && Array.isArray(schemas) && Object.isFrozen(schemas) ? (schemas as readonly OpSchema[]) : undefined;
    if (frozenList) {
      const known = before.successors?.get(frozenList)?.get(owner);
      if (known) {
        this.tables = known;
        return this;
      }
    }
    const list = 'op' in schemas ? [schemas as OpSchema] : [...(schemas as Iterable<OpSchema>)];
    const tables = this.writableTables();
    for (const schema of list) {
      const existing = tables.owners.get(schema.op);
      if (existing !== undefined) {
        throw new ModelpassError({
          reason: `op '${schema.op}' is already registered by ${existing}`,
          actual: `a second definition from ${owner}`,
          source: '@modelpass/ir',
        });
      }
      tables.schemas.set(schema.op, schema);
      tables.owners.set(schema.op, owner);
    }
    if (frozenList) {
      // Both the tables before and the tables after stay as they are from now on: remembered as a step between them.
      tables.sealed = true;
      before.successors ??= new WeakMap();
      let byOwner = before.successors.get(frozenList);
      if (!byOwner) before.successors.set(frozenList, (byOwner = new Map()));
      byOwner.set(owner, tables);
    }
    return this;
  }

  get(op: string): OpSchema | undefined {
    return this.tables.schemas.get(op);
  }

  has(op: string): boolean {
    return this.tables.schemas.has(op);
  }

  ownerOf(op: string): string | undefined {
    return this.tables.owners.get(op);
  }

  ops(): string[] {
    return [...this.tables.schemas.keys()].sort();
  }

  get size(): number {
    return this.tables.schemas.size;
  }

  /**
   * Marks `dialect` as open: the registry knows some of its ops (e.g. ONNX Runtime's `com.microsoft`
   * contrib ops), and its other ops stay opaque foreign ops, so the verifier's default
   * `unknownOps: 'known-dialects'` does not report them.
   */
  markOpenDialect(dialect: string): this {
    if (!this.tables.openDialects.has(dialect)) this.writableTables().openDialects.add(dialect);
    return this;
  }

  /** Whether `dialect` was marked open (its unregistered ops are opaque, not unknown). */
  isOpenDialect(dialect: string): boolean {
    return this.tables.openDialects.has(dialect);
  }

  /**
   * Sets how this op set computes known data (clones keep it): verify-each's input check asks it, wherever the
   * PassManager was built (the CLI, a replay, a library pipeline), so a declared output that contradicts data the
   * input computes is the input's, not the fault of the pass that later folds the computation.
   */
  setKnownValuesProvider(provider: KnownValuesProvider | undefined): this {
    this.knownValuesProvider = provider;
    return this;
  }

  /** The data `model` computes from known data, as this op set's provider knows it; undefined without a provider. */
  knownValuesOf(model: Model): KnownValues | undefined {
    return this.knownValuesProvider?.(model, this);
  }

  /** A copy that can be extended without touching this registry (the two share their tables until either changes). */
  clone(): OpRegistry {
    const copy = new OpRegistry();
    this.tables.sealed = true;
    copy.tables = this.tables;
    copy.knownValuesProvider = this.knownValuesProvider;
    return copy;
  }

  /** Runs the schema's type inference for `node` (no-op for unknown ops or ops without inference). */
  inferNode(node: Node, model?: Model): readonly (Type | undefined)[] | undefined {
    const schema = this.tables.schemas.get(node.op);
    if (!schema?.inferTypes) return undefined;
    return schema.inferTypes({
      node,
      opset: model?.opset(node.dialect),
      inputType: (index) => node.inputs[index]?.type,
      inputConstant: (index) => node.inputs[index]?.constant,
    });
  }
}
